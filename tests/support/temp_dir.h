#pragma once
// A temporary directory removed (recursively) when the object goes out of scope.
#include <string>

namespace nodeproc::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace nodeproc::testing

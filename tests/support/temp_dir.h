#pragma once
// A temporary directory removed (recursively) when the object goes out of scope.
#include <string>
#include <vector>

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

// Names in `dir` (without "." and ".."), sorted; empty when it cannot be read.
std::vector<std::string> ListDir(const std::string& dir);

}  // namespace nodeproc::testing

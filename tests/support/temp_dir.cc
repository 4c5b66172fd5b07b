#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <system_error>

namespace nodeproc::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "nodeproc-test-XXXXXX").string();
  char* p = ::mkdtemp(tmpl.data());
  path_ = p ? std::string(p) : std::string();
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  // Make read-only test folders removable again.
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(path_, ec);
}

}  // namespace nodeproc::testing

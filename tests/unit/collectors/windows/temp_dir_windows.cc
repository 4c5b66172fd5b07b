// tests/support/temp_dir for the Windows build (no mkdtemp in mingw).
#include <windows.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

#include "tests/support/temp_dir.h"

namespace nodeproc::testing {

TempDir::TempDir() {
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::filesystem::path p =
        base / ("nodeproc-test-" + std::to_string(GetCurrentProcessId()) + "-" +
                std::to_string(counter++) + "-" + std::to_string(GetTickCount64()));
    std::error_code ec;
    if (std::filesystem::create_directory(p, ec)) {
      path_ = p.generic_string();
      return;
    }
  }
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace nodeproc::testing

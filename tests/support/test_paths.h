#pragma once
// Paths the build hands to tests: the checkout, tests/fixtures, the built binary.
#include <string>

namespace nodeproc::testing {

inline std::string SourceDir() { return NODEPROC_SOURCE_DIR; }
inline std::string FixturesDir() { return NODEPROC_TEST_FIXTURES_DIR; }
inline std::string NodeprocBinary() { return NODEPROC_BINARY; }

}  // namespace nodeproc::testing

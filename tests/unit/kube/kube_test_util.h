#pragma once
// Helpers for the kube unit tests: read a kubelet fixture from tests/fixtures/kubelet.
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/test_paths.h"

namespace nodeproc::testing {

inline std::string ReadKubeletFixture(const std::string& name) {
  std::string path = FixturesDir() + "/kubelet/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace nodeproc::testing

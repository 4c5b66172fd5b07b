#include "core/process_state.h"

#include "gtest/gtest.h"

namespace nodeproc {
namespace {

TEST(ProcessStateTest, MapsEveryStatLetterToTheContractWord) {
  EXPECT_EQ(ProcessStateName(ProcessStateFromLetter('R')), "running");
  EXPECT_EQ(ProcessStateName(ProcessStateFromLetter('S')), "sleeping");
  EXPECT_EQ(ProcessStateName(ProcessStateFromLetter('D')), "disk-sleep");
  EXPECT_EQ(ProcessStateName(ProcessStateFromLetter('T')), "stopped");
  EXPECT_EQ(ProcessStateName(ProcessStateFromLetter('t')), "tracing-stop");
  EXPECT_EQ(ProcessStateName(ProcessStateFromLetter('Z')), "zombie");
  EXPECT_EQ(ProcessStateName(ProcessStateFromLetter('X')), "dead");
  EXPECT_EQ(ProcessStateName(ProcessStateFromLetter('x')), "dead");
  EXPECT_EQ(ProcessStateName(ProcessStateFromLetter('I')), "idle");
  EXPECT_EQ(ProcessStateName(ProcessStateFromLetter('?')), "unknown");
}

}  // namespace
}  // namespace nodeproc

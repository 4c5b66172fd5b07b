#include "collectors/proc_parsers.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace nodeproc {
namespace {

using namespace std::string_literals;

// The stat line of PID 26231 in tests/fixtures/procfs/fixtures.ttar.
constexpr std::string_view kVimStat =
    "26231 (vim) R 5392 7446 5392 34835 7446 4218880 32533 309516 26 82 1677 44 158 99 20 0 1 0 "
    "82375 56274944 1981 18446744073709551615 4194304 6294284 140736914091744 140736914087944 "
    "139965136429984 0 0 12288 1870679807 0 0 0 17 0 0 0 31 0 0 8391624 8481048 16420864 "
    "140736914093252 140736914093279 140736914093279 140736914096107 0\n";

// Builds a stat line around an arbitrary comm, with recognisable numbers.
std::string StatLine(std::string_view comm, std::string_view state = "S",
                     std::string_view flags = "4194304") {
  return "42 (" + std::string(comm) + ") " + std::string(state) + " 7 42 42 0 -1 " +
         std::string(flags) + " 10 0 0 0 250 50 -3 -4 20 0 3 0 12345 1048576 64 "
         "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
}

TEST(ParseProcStatTest, ParsesEveryNeededFieldOfARealLine) {
  absl::StatusOr<ProcStat> st = ParseProcStat(kVimStat);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->pid, 26231);
  EXPECT_EQ(st->comm, "vim");
  EXPECT_EQ(st->state, 'R');
  EXPECT_EQ(st->ppid, 5392);
  EXPECT_EQ(st->flags, 4218880u);
  EXPECT_FALSE(st->kernel_thread());
  EXPECT_EQ(st->utime_ticks, 1677u);
  EXPECT_EQ(st->stime_ticks, 44u);
  EXPECT_EQ(st->num_threads, 1u);
  EXPECT_EQ(st->start_ticks, 82375u);
  EXPECT_EQ(st->vsize_bytes, 56274944u);
  EXPECT_EQ(st->rss_pages, 1981u);
}

TEST(ParseProcStatTest, KernelThreadFlagAndNegativeUnneededFields) {
  // PID 26232 of the fixtures: PF_KTHREAD set, cutime/cstime hold INT64_MIN/INT64_MAX.
  absl::StatusOr<ProcStat> st = ParseProcStat(
      "33 (ata_sff) S 2 0 0 0 -1 69238880 0 0 0 0 0 0 -9223372036854775808 9223372036854775807 "
      "0 -20 1 0 5 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 18446744073709551615 0 0");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_TRUE(st->kernel_thread());
  EXPECT_EQ(st->ppid, 2);
  EXPECT_EQ(st->start_ticks, 5u);
  EXPECT_EQ(st->vsize_bytes, 0u);
}

struct CommCase {
  std::string comm;
  friend void PrintTo(const CommCase& c, std::ostream* os) { *os << "comm \"" << c.comm << "\""; }
};

class HostileCommTest : public ::testing::TestWithParam<CommCase> {};

TEST_P(HostileCommTest, CommIsEverythingUpToTheLastParenthesis) {
  const std::string line = StatLine(GetParam().comm);
  absl::StatusOr<ProcStat> st = ParseProcStat(line);
  ASSERT_TRUE(st.ok()) << st.status() << " for " << line;
  EXPECT_EQ(st->comm, GetParam().comm);
  EXPECT_EQ(st->pid, 42);
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 7);
  EXPECT_EQ(st->utime_ticks, 250u);
  EXPECT_EQ(st->stime_ticks, 50u);
  EXPECT_EQ(st->num_threads, 3u);
  EXPECT_EQ(st->start_ticks, 12345u);
  EXPECT_EQ(st->vsize_bytes, 1048576u);
  EXPECT_EQ(st->rss_pages, 64u);
}

INSTANTIATE_TEST_SUITE_P(
    Comms, HostileCommTest,
    ::testing::Values(CommCase{"a) (b"}, CommCase{"with spaces"}, CommCase{"(a b ) ( c d) "},
                      CommCase{") R 1 2 3"}, CommCase{""}, CommCase{"))))"},
                      CommCase{"x\ny"}, CommCase{"tab\there"}, CommCase{"\xff\xfe"},
                      CommCase{"1 (2) 3"}));

TEST(ParseProcStatTest, TrailingLinesAfterTheFieldsAreIgnored) {
  // PID 584 of the fixtures: a second line after the stat line.
  absl::StatusOr<ProcStat> st = ParseProcStat(
      "1020 ((a b ) ( c d) ) R 28378 1020 28378 34842 1020 4218880 286 0 0 0 0 0 0 0 20 0 1 0 "
      "10839175 10395648 155 18446744073709551615 4194304 4238788\n#!/bin/cat /proc/self/stat\n");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->comm, "(a b ) ( c d) ");
  EXPECT_EQ(st->start_ticks, 10839175u);
  EXPECT_EQ(st->rss_pages, 155u);
}

class BadStatTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BadStatTest, IsRejected) {
  absl::StatusOr<ProcStat> st = ParseProcStat(GetParam());
  EXPECT_FALSE(st.ok()) << "accepted: " << GetParam();
  if (!st.ok()) {
    EXPECT_EQ(st.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Garbage, BadStatTest,
    ::testing::Values(
        ""s, "\n"s, "42"s, "42 (x"s, "42 x) S 1"s, ")( 42"s,
        // Truncated after the comm, in the middle, and just before rss.
        "42 (x) "s, "42 (x) S"s, "42 (x) S 7 42 42 0 -1 4194304 10 0 0 0 250"s,
        "42 (x) S 7 42 42 0 -1 4194304 10 0 0 0 250 50 -3 -4 20 0 3 0 12345 1048576"s,
        // Garbage numbers in needed fields.
        "abc (x) S 7 42 42 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"s,
        "-1 (x) S 7 42 42 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"s,
        "42 (x) S -7 42 42 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"s,
        "42 (x) S 7 42 42 0 -1 0x10 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"s,
        "42 (x) S 7 42 42 0 -1 0 0 0 0 0 1.5 1 0 0 20 0 1 0 1 1 1"s,
        "42 (x) S 7 42 42 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 99999999999999999999999 1 1"s,
        "42 (x) S 7 42 42 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1e3"s,
        "42 (x) S 7 42 42 0 -1 99999999999 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"s,
        "42 (x) SS 7 42 42 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"s,
        "4 2 (x) S 7 42 42 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"s,
        "42 (x) S 7 42 42 0 -1 0 0 0 0 0 1 1 0 0 20 0 1\0 0 1 1 1"s));

constexpr std::string_view kVimStatus =
    "\nName:\tprometheus\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t26231\nPid:\t26231\n"
    "PPid:\t1\nUid:\t1000\t1000\t1000\t0\nGid:\t1001\t1001\t1001\t0\nVmSize:\t   58440 kB\n"
    "VmRSS:\t    6716 kB\nThreads:\t1\n";

TEST(ParseProcStatusTest, ParsesUidThreadsAndMemory) {
  absl::StatusOr<ProcStatus> s = ParseProcStatus(kVimStatus);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->real_uid, 1000u);
  EXPECT_EQ(s->threads, 1u);
  EXPECT_EQ(s->vm_size_bytes, 58440u * 1024);
  EXPECT_EQ(s->vm_rss_bytes, 6716u * 1024);
}

TEST(ParseProcStatusTest, SpacesAsSeparatorsAndRealUidIsTheFirstColumn) {
  absl::StatusOr<ProcStatus> s =
      ParseProcStatus("Name:   kube-proxy\nUid:    7 0 0 0\nThreads:        51\n");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->real_uid, 7u);
  EXPECT_EQ(s->threads, 51u);
  EXPECT_FALSE(s->vm_rss_bytes.has_value());  // kernel threads have no Vm* lines
}

TEST(ParseProcStatusTest, RejectsMissingOrGarbageUid) {
  EXPECT_FALSE(ParseProcStatus("").ok());
  EXPECT_FALSE(ParseProcStatus("Name:\tx\nThreads:\t1\n").ok());
  EXPECT_FALSE(ParseProcStatus("Uid:\n").ok());
  EXPECT_FALSE(ParseProcStatus("Uid:\tabc\t0\n").ok());
  EXPECT_FALSE(ParseProcStatus("Uid:\t-1\t0\n").ok());
  EXPECT_FALSE(ParseProcStatus("Uid:\t99999999999\n").ok());
  EXPECT_FALSE(ParseProcStatus("Uid:\t0\nThreads:\tmany\n").ok());
  EXPECT_FALSE(ParseProcStatus("Uid:\t0\nVmRSS:\t12x kB\n").ok());
  // A Name holding "Uid:" is not the Uid line.
  EXPECT_FALSE(ParseProcStatus("Name:\tUid: 5\n").ok());
}

TEST(ParseProcStatmTest, ParsesFirstThreeColumns) {
  absl::StatusOr<ProcStatm> m = ParseProcStatm("149919 12547 18446744073709551615 19864 0 14531 0\n");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->size_pages, 149919u);
  EXPECT_EQ(m->resident_pages, 12547u);
  EXPECT_EQ(m->shared_pages, 18446744073709551615u);
  EXPECT_FALSE(ParseProcStatm("").ok());
  EXPECT_FALSE(ParseProcStatm("1 2").ok());
  EXPECT_FALSE(ParseProcStatm("1 x 3").ok());
}

TEST(ParseProcIoTest, ParsesReadAndWriteBytes) {
  absl::StatusOr<ProcIo> io = ParseProcIo(
      "rchar: 750339\nwchar: 818609\nsyscr: 7405\nsyscw: 5245\nread_bytes: 1024\n"
      "write_bytes: 2048\ncancelled_write_bytes: -1024\n");
  ASSERT_TRUE(io.ok()) << io.status();
  EXPECT_EQ(io->read_bytes, 1024u);
  EXPECT_EQ(io->write_bytes, 2048u);
}

TEST(ParseProcIoTest, RejectsTruncatedOrGarbage) {
  EXPECT_FALSE(ParseProcIo("").ok());
  EXPECT_FALSE(ParseProcIo("rchar: 1\nwchar: 2\n").ok());
  EXPECT_FALSE(ParseProcIo("read_bytes: 1\n").ok());
  EXPECT_FALSE(ParseProcIo("read_bytes: 1\nwrite_bytes: \n").ok());
  EXPECT_FALSE(ParseProcIo("read_bytes: x\nwrite_bytes: 2\n").ok());
  EXPECT_FALSE(ParseProcIo("read_bytes: -1\nwrite_bytes: 2\n").ok());
}

struct CmdlineCase {
  std::string raw;
  std::string joined;
};

class JoinCmdlineTest : public ::testing::TestWithParam<CmdlineCase> {};

TEST_P(JoinCmdlineTest, Joins) {
  EXPECT_EQ(JoinCmdline(GetParam().raw), GetParam().joined);
  std::string reused = "previous content that is longer";
  JoinCmdline(GetParam().raw, &reused);
  EXPECT_EQ(reused, GetParam().joined);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JoinCmdlineTest,
    ::testing::Values(
        CmdlineCase{"vim\0test.go\0+10\0"s, "vim test.go +10"},
        CmdlineCase{""s, ""},                       // kernel thread / zombie
        CmdlineCase{"\0\0\0"s, ""},
        CmdlineCase{"com.github.uiautomator\0\0\0\0\0\0"s, "com.github.uiautomator"},
        CmdlineCase{"a\0\0b\0"s, "a  b"},           // an empty argument keeps its separator
        CmdlineCase{"nginx: worker process"s, "nginx: worker process"},  // setproctitle, no NUL
        CmdlineCase{"sh\0-c\0echo \"a,b\" 'c'\nnext\0"s, "sh -c echo \"a,b\" 'c'\nnext"},
        CmdlineCase{"bin\0\xff\xfe\x80\0caf\xc3\xa9\0"s, "bin \xff\xfe\x80 caf\xc3\xa9"}));

TEST(ParseBootTimeTest, FindsTheBtimeLine) {
  absl::StatusOr<uint64_t> b =
      ParseBootTime("cpu  1 2 3\nintr 5 6\nctxt 38014093\nbtime 1418183276\nprocesses 26442\n");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*b, 1418183276u);
  EXPECT_EQ(ParseBootTime("cpu 1\n").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(ParseBootTime("btime\n").ok());
  EXPECT_FALSE(ParseBootTime("btime abc\n").ok());
  EXPECT_FALSE(ParseBootTime("btimex 5\n").ok());
}

TEST(ParseDecimalTest, StrictWholeToken) {
  uint64_t v = 0;
  EXPECT_TRUE(ParseDecimal("18446744073709551615", &v));
  EXPECT_EQ(v, 18446744073709551615u);
  EXPECT_FALSE(ParseDecimal("18446744073709551616", &v));
  EXPECT_FALSE(ParseDecimal("", &v));
  EXPECT_FALSE(ParseDecimal("+1", &v));
  EXPECT_FALSE(ParseDecimal(" 1", &v));
  EXPECT_FALSE(ParseDecimal("1 ", &v));
}

}  // namespace
}  // namespace nodeproc

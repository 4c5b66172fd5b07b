// The Windows probe's platform-independent pieces: built and run on Linux and under wine.
#include "collectors/windows/win_convert.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace nodeproc::win {
namespace {

TEST(WinConvertTest, FileTimeOfTheUnixEpochIsZeroSeconds) {
  // 1970-01-01 is 11644473600 s after 1601-01-01.
  EXPECT_EQ(kFileTimeUnixEpoch, 11644473600ULL * 10000000ULL);
  EXPECT_EQ(FileTimeToUnixSeconds(kFileTimeUnixEpoch + 10000000ULL), 1.0);
}

TEST(WinConvertTest, FileTimeToUnixSecondsKeepsSubSeconds) {
  // 2026-11-18 11:06:40.5 UTC = 1795000000.5 s.
  const uint64_t ft = kFileTimeUnixEpoch + 1795000000ULL * 10000000ULL + 5000000ULL;
  EXPECT_DOUBLE_EQ(FileTimeToUnixSeconds(ft), 1795000000.5);
  EXPECT_EQ(FileTimeValue(static_cast<uint32_t>(ft), static_cast<uint32_t>(ft >> 32)), ft);
}

TEST(WinConvertTest, FileTimeZeroOrBefore1970IsUnknown) {
  EXPECT_EQ(FileTimeToUnixSeconds(0), 0);
  EXPECT_EQ(FileTimeToUnixSeconds(kFileTimeUnixEpoch - 1), 0);
  EXPECT_EQ(FileTimeToUnixSeconds(kFileTimeUnixEpoch), 0);
}

TEST(WinConvertTest, HundredNanosecondsToSeconds) {
  EXPECT_EQ(HundredNsToSeconds(0), 0);
  EXPECT_DOUBLE_EQ(HundredNsToSeconds(15625000), 1.5625);
  EXPECT_DOUBLE_EQ(HundredNsToSeconds(1), 1e-7);
  // A year of CPU keeps its last digit.
  EXPECT_DOUBLE_EQ(HundredNsToSeconds(315360000000000ULL + 3), 31536000.0000003);
}

TEST(WinConvertTest, WalkPolicyNoMoreItemsEndsOtherErrorsStop) {
  EXPECT_EQ(ClassifyWalkResult(kErrorSuccess), WalkStep::kItem);
  EXPECT_EQ(ClassifyWalkResult(kErrorNoMoreItems), WalkStep::kEnd);
  EXPECT_EQ(ClassifyWalkResult(24 /*ERROR_BAD_LENGTH*/), WalkStep::kStop);
  EXPECT_EQ(ClassifyWalkResult(120 /*ERROR_CALL_NOT_IMPLEMENTED*/), WalkStep::kStop);
}

// A scripted walk: returns the codes in order, then ERROR_NO_MORE_ITEMS forever.
struct Script {
  std::vector<uint32_t> codes;
  size_t calls = 0;
  uint32_t operator()() {
    const size_t i = calls++;
    return i < codes.size() ? codes[i] : kErrorNoMoreItems;
  }
};

TEST(WinConvertTest, RunWalkCountsItemsUntilNoMoreItems) {
  Script s{{0, 0, 0, kErrorNoMoreItems, 0}};
  const WalkOutcome w = RunWalk([&] { return s(); }, 100);
  EXPECT_EQ(w.items, 3u);
  EXPECT_TRUE(w.complete);
  EXPECT_EQ(w.error, 0u);
  EXPECT_EQ(s.calls, 4u);  // nothing read after the end
}

TEST(WinConvertTest, RunWalkStopsOnAnyOtherErrorAndKeepsWhatItRead) {
  Script s{{0, 0, 24, 0, 0}};
  const WalkOutcome w = RunWalk([&] { return s(); }, 100);
  EXPECT_EQ(w.items, 2u);
  EXPECT_FALSE(w.complete);
  EXPECT_EQ(w.error, 24u);
  EXPECT_EQ(s.calls, 3u);
}

TEST(WinConvertTest, RunWalkIsBounded) {
  size_t calls = 0;
  const WalkOutcome w = RunWalk([&] { ++calls; return kErrorSuccess; }, 5);
  EXPECT_EQ(w.items, 5u);
  EXPECT_FALSE(w.complete);
  EXPECT_EQ(w.error, 0u);
  EXPECT_EQ(calls, 5u);
}

TEST(WinConvertTest, EmptyWalkIsComplete) {
  const WalkOutcome w = RunWalk([] { return kErrorNoMoreItems; }, 5);
  EXPECT_EQ(w.items, 0u);
  EXPECT_TRUE(w.complete);
}

TEST(WinConvertTest, Utf16ToUtf8) {
  EXPECT_EQ(Utf16ToUtf8(u"services.exe"), "services.exe");
  EXPECT_EQ(Utf16ToUtf8(u"caf\u00e9 \u65e5\u672c"), "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac");
  EXPECT_EQ(Utf16ToUtf8(u"\U0001F600"), "\xf0\x9f\x98\x80");  // a surrogate pair
  const char16_t lone[] = {u'a', 0xd800, u'b', 0};
  EXPECT_EQ(Utf16ToUtf8(lone), "a\xef\xbf\xbd" "b");  // unpaired high surrogate -> U+FFFD
  const char16_t low[] = {0xdc00, 0};
  EXPECT_EQ(Utf16ToUtf8(low), "\xef\xbf\xbd");
  const char16_t nul[] = {u'a', 0, u'b'};
  EXPECT_EQ(Utf16ToUtf8(std::u16string_view(nul, 3)), "a");  // stops at NUL
}

TEST(WinConvertTest, ToProcessRecordMapsLikePsutil) {
  RawProcess raw;
  raw.pid = 1234;
  raw.ppid = 600;
  raw.exe_name = "svchost.exe";
  raw.threads = 7;
  raw.cmdline = "C:\\Windows\\system32\\svchost.exe -k netsvcs";
  raw.creation_time = kFileTimeUnixEpoch + 1795000000ULL * 10000000ULL;
  raw.kernel_time = 20000000;  // 2 s
  raw.user_time = 5000000;     // 0.5 s
  raw.working_set_bytes = 8 << 20;
  raw.private_bytes = 3 << 20;
  raw.handle_count = 321;
  raw.read_transfer = 4096;
  raw.write_transfer = 512;
  const ProcessRecord r = ToProcessRecord(raw);
  EXPECT_EQ(r.pid, 1234);
  EXPECT_EQ(r.ppid, 600);
  EXPECT_EQ(r.name, "svchost.exe");
  EXPECT_EQ(r.cmdline, "C:\\Windows\\system32\\svchost.exe -k netsvcs");
  EXPECT_FALSE(r.kernel_thread);
  EXPECT_FALSE(r.uid_known);
  EXPECT_EQ(r.state, ProcessState::kRunning);
  EXPECT_EQ(r.threads, 7u);
  EXPECT_EQ(r.rss_bytes, 8u << 20);
  EXPECT_EQ(r.vms_bytes, 3u << 20);
  EXPECT_EQ(r.fds, 321u);
  EXPECT_EQ(r.read_bytes, 4096u);
  EXPECT_EQ(r.write_bytes, 512u);
  EXPECT_EQ(r.start_ticks, *raw.creation_time);
  EXPECT_DOUBLE_EQ(r.start_time_unix, 1795000000.0);
  EXPECT_DOUBLE_EQ(r.cpu_seconds, 2.5);
}

TEST(WinConvertTest, FailedCallsLeaveFieldsUnknownNotZero) {
  RawProcess raw;
  raw.pid = 88;
  raw.ppid = 4;
  raw.exe_name = "locked.exe";
  raw.threads = 2;
  const ProcessRecord r = ToProcessRecord(raw);
  EXPECT_EQ(r.name, "locked.exe");
  EXPECT_EQ(r.threads, 2u);
  EXPECT_FALSE(r.fds.has_value());
  EXPECT_FALSE(r.read_bytes.has_value());
  EXPECT_FALSE(r.write_bytes.has_value());
  EXPECT_EQ(r.start_time_unix, 0);  // the CSV's unknown create_time
  EXPECT_EQ(r.cmdline, "");
}

TEST(WinConvertTest, ZeroHandlesIsUnknown) {
  RawProcess raw;
  raw.pid = 96;
  raw.handle_count = 0;  // what wine's GetProcessHandleCount answers
  EXPECT_FALSE(ToProcessRecord(raw).fds.has_value());
  raw.handle_count = 1;
  EXPECT_EQ(ToProcessRecord(raw).fds, 1u);
}

TEST(WinConvertTest, IdleAndSystemAreKernelThreads) {
  RawProcess raw;
  raw.pid = 4;
  raw.exe_name = "System";
  raw.cmdline = "ignored";
  EXPECT_TRUE(ToProcessRecord(raw).kernel_thread);
  EXPECT_EQ(ToProcessRecord(raw).cmdline, "");
  raw.pid = 0;
  EXPECT_TRUE(ToProcessRecord(raw).kernel_thread);
  raw.pid = 8;
  EXPECT_FALSE(ToProcessRecord(raw).kernel_thread);
}

}  // namespace
}  // namespace nodeproc::win

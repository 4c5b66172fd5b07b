// The Windows probe against the live system (Windows, or wine in tests/suites/windows.sh):
// this test process and a suspended child of it.
#include "collectors/windows/toolhelp_probe.h"

#include <windows.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nodeproc::win {
namespace {

const ProcessRecord* Find(const std::vector<ProcessRecord>& rows, uint32_t pid) {
  for (const ProcessRecord& r : rows) {
    if (r.pid == static_cast<int32_t>(pid)) return &r;
  }
  return nullptr;
}

// A child of this process, started suspended so it lives until the test ends it.
class SuspendedChild {
 public:
  explicit SuspendedChild(const std::wstring& marker) {
    wchar_t exe[MAX_PATH];
    GetModuleFileNameW(nullptr, exe, MAX_PATH);
    std::wstring cmd = L"\"" + std::wstring(exe) + L"\" --gtest_filter=" + marker;
    STARTUPINFOW si{};
    si.cb = sizeof(si);
    ok_ = CreateProcessW(nullptr, cmd.data(), nullptr, nullptr, FALSE, CREATE_SUSPENDED, nullptr,
                         nullptr, &si, &pi_);
  }
  ~SuspendedChild() { Stop(); }
  void Stop() {
    if (!ok_) return;
    TerminateProcess(pi_.hProcess, 0);
    WaitForSingleObject(pi_.hProcess, 10000);
    CloseHandle(pi_.hThread);
    CloseHandle(pi_.hProcess);
    ok_ = false;
  }
  bool ok() const { return ok_; }
  uint32_t pid() const { return pi_.dwProcessId; }

 private:
  PROCESS_INFORMATION pi_{};
  bool ok_ = false;
};

TEST(ToolhelpProbeTest, ScanSeesThisProcessWithItsCounters) {
  ToolhelpProbe probe;
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  ASSERT_FALSE(rows.empty());
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end(),
                             [](const ProcessRecord& a, const ProcessRecord& b) { return a.pid < b.pid; }));
  const ProcessRecord* self = Find(rows, GetCurrentProcessId());
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->name, "windows_unit_tests.exe");
  EXPECT_THAT(self->cmdline, ::testing::HasSubstr("windows_unit_tests"));
  EXPECT_GE(self->threads, 1u);
  EXPECT_GT(self->rss_bytes, 0u);
  EXPECT_GT(self->vms_bytes, 0u);
  if (ToolhelpProbe::UnderWine()) {
    // Stub zeros there: reported unknown, never 0.
    EXPECT_FALSE(self->fds.has_value());
    EXPECT_FALSE(self->read_bytes.has_value());
  } else {
    ASSERT_TRUE(self->fds.has_value());
    EXPECT_GT(*self->fds, 0u);
    EXPECT_TRUE(self->read_bytes.has_value());
  }
  EXPECT_FALSE(self->uid_known);
  EXPECT_EQ(self->state, ProcessState::kRunning);
  // Started before now and after 2020.
  FILETIME now_ft;
  GetSystemTimeAsFileTime(&now_ft);
  const double now = FileTimeToUnixSeconds(FileTimeValue(now_ft.dwLowDateTime, now_ft.dwHighDateTime));
  EXPECT_GT(self->start_time_unix, 1577836800.0);
  EXPECT_LE(self->start_time_unix, now + 1);
  EXPECT_NE(self->start_ticks, 0u);
  // The parent is in the list too (the shell or wine's start-up process) or gone; never self.
  EXPECT_NE(self->ppid, self->pid);
}

TEST(ToolhelpProbeTest, CpuTimeGrowsWithWork) {
  ToolhelpProbe probe;
  std::vector<CpuSample> before, after;
  ASSERT_TRUE(probe.SampleCpu(&before).ok());
  // Burn CPU until the kernel's accounting (coarse ticks) moves, bounded by a work count.
  volatile double x = 0;
  FILETIME c, e, k, u0, u1;
  GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u0);
  for (long long i = 0; i < 4000000000LL; ++i) {
    x = x + 1.0 / (i + 1);
    if (i % 10000000 == 0) {
      GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u1);
      if (CompareFileTime(&u1, &u0) != 0) break;
    }
  }
  ASSERT_TRUE(probe.SampleCpu(&after).ok());
  auto self = [](const std::vector<CpuSample>& v) {
    for (const CpuSample& s : v) {
      if (s.pid == static_cast<int32_t>(GetCurrentProcessId())) return s;
    }
    return CpuSample{};
  };
  const CpuSample a = self(before), b = self(after);
  ASSERT_NE(a.pid, 0);
  ASSERT_NE(b.pid, 0);
  EXPECT_EQ(a.start_ticks, b.start_ticks);  // same identity
  EXPECT_GT(b.cpu_seconds, a.cpu_seconds);
}

TEST(ToolhelpProbeTest, IoCountersGrowWithFileIo) {
  if (ToolhelpProbe::UnderWine()) GTEST_SKIP() << "wine's GetProcessIoCounters is a stub (zeros)";
  ToolhelpProbe probe;
  std::vector<ProcessRecord> before, after;
  ASSERT_TRUE(probe.Scan(&before).ok());
  wchar_t dir[MAX_PATH], path[MAX_PATH];
  ASSERT_NE(GetTempPathW(MAX_PATH, dir), 0u);
  ASSERT_NE(GetTempFileNameW(dir, L"npr", 0, path), 0u);
  HANDLE f = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                         FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, nullptr);
  ASSERT_NE(f, INVALID_HANDLE_VALUE);
  std::vector<char> buf(65536, 'x');
  DWORD n = 0;
  ASSERT_TRUE(WriteFile(f, buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr));
  SetFilePointer(f, 0, nullptr, FILE_BEGIN);
  ASSERT_TRUE(ReadFile(f, buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr));
  CloseHandle(f);
  ASSERT_TRUE(probe.Scan(&after).ok());
  const ProcessRecord* a = Find(before, GetCurrentProcessId());
  const ProcessRecord* b = Find(after, GetCurrentProcessId());
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(a->write_bytes.has_value() && b->write_bytes.has_value());
  EXPECT_GE(*b->write_bytes - *a->write_bytes, 65536u);
  EXPECT_GE(*b->read_bytes - *a->read_bytes, 65536u);
}

TEST(ToolhelpProbeTest, ChildIsSeenWithParentAndCommandLineThenForgotten) {
  SuspendedChild child(L"NodeprocChildMarker.Never");
  ASSERT_TRUE(child.ok()) << GetLastError();
  ToolhelpProbe probe;
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  const ProcessRecord* r = Find(rows, child.pid());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->ppid, static_cast<int32_t>(GetCurrentProcessId()));
  EXPECT_EQ(r->name, "windows_unit_tests.exe");
  // Another process's command line: NtQueryInformationProcess(ProcessCommandLineInformation)
  // or the PEB.
  EXPECT_THAT(r->cmdline, ::testing::HasSubstr("--gtest_filter=NodeprocChildMarker.Never"));
  const size_t cached = probe.CachedCommandLines();
  EXPECT_GE(cached, 2u);  // this process and the child at least

  child.Stop();
  ASSERT_TRUE(probe.Scan(&rows).ok());
  EXPECT_EQ(Find(rows, child.pid()), nullptr);
  EXPECT_LT(probe.CachedCommandLines(), cached);
}

TEST(ToolhelpProbeTest, ProcessesByPidAndStatsForPidsAgree) {
  ToolhelpProbe probe;
  auto procs = probe.ProcessesByPID();
  ASSERT_TRUE(procs.ok());
  ASSERT_EQ(procs->count(GetCurrentProcessId()), 1u);
  EXPECT_EQ(procs->at(GetCurrentProcessId()).exe_name, "windows_unit_tests.exe");
  std::map<uint32_t, ToolhelpProbe::Entry> just_self;
  just_self[GetCurrentProcessId()] = procs->at(GetCurrentProcessId());
  const std::vector<RawProcess> raws = probe.StatsForPIDs(just_self, /*full=*/true);
  ASSERT_EQ(raws.size(), 1u);
  EXPECT_TRUE(raws[0].creation_time.has_value());
  EXPECT_TRUE(raws[0].working_set_bytes.has_value());
  EXPECT_EQ(raws[0].handle_count.has_value(), !ToolhelpProbe::UnderWine());
  // A PID that does not exist (multiples of 4 are used; 3 never is) is absent, not half-filled.
  std::map<uint32_t, ToolhelpProbe::Entry> ghost;
  ghost[3] = ToolhelpProbe::Entry{3, 0, 1, "ghost.exe"};
  EXPECT_TRUE(probe.StatsForPIDs(ghost, true).empty());
}

}  // namespace
}  // namespace nodeproc::win

#include "collectors/procfs_probe.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"
#include "tests/support/ttar.h"

namespace nodeproc {
namespace {

using namespace std::string_literals;
using ::testing::ElementsAre;

const double kTck = static_cast<double>(::sysconf(_SC_CLK_TCK));
const uint64_t kPage = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));

std::vector<int32_t> Pids(const std::vector<ProcessRecord>& rows) {
  std::vector<int32_t> pids;
  for (const auto& r : rows) pids.push_back(r.pid);
  return pids;
}

std::vector<int32_t> Pids(const std::vector<CpuSample>& rows) {
  std::vector<int32_t> pids;
  for (const auto& r : rows) pids.push_back(r.pid);
  return pids;
}

const ProcessRecord* Find(const std::vector<ProcessRecord>& rows, int32_t pid) {
  for (const auto& r : rows) {
    if (r.pid == pid) return &r;
  }
  return nullptr;
}

// --- The prometheus/procfs fixture tree (tests/fixtures/procfs) ------------------------------------------

// Extracted once for the suite (only fixtures/proc/: the /sys part is large and unused).
class FixtureProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new testing::TempDir();
    extracted_ = new absl::Status(testing::ExtractTtar(
        testing::FixturesDir() + "/procfs/fixtures.ttar", tmp_->path(), "fixtures/proc/"));
  }
  static void TearDownTestSuite() {
    delete extracted_;
    delete tmp_;
  }
  void SetUp() override {
    ASSERT_FALSE(tmp_->path().empty());
    ASSERT_TRUE(extracted_->ok()) << *extracted_;
    root_ = tmp_->path() + "/fixtures/proc";
  }
  static testing::TempDir* tmp_;
  static absl::Status* extracted_;
  std::string root_;
};
testing::TempDir* FixtureProbeTest::tmp_ = nullptr;
absl::Status* FixtureProbeTest::extracted_ = nullptr;

TEST_F(FixtureProbeTest, ExtractionMatchesTheArchive) {
  // NULLBYTE -> NUL and EOF -> no final newline.
  std::ifstream in(root_ + "/26231/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(cmdline, "vim\0test.go\0+10\0"s);
  EXPECT_TRUE(std::filesystem::is_symlink(root_ + "/26231/fd/10"));
  EXPECT_EQ(std::filesystem::read_symlink(root_ + "/self"), "26231");
  std::ifstream comm(root_ + "/26231/comm", std::ios::binary);
  std::string comm_text((std::istreambuf_iterator<char>(comm)), std::istreambuf_iterator<char>());
  EXPECT_EQ(comm_text, "vim\n");  // a final newline unless EOF says otherwise
  EXPECT_FALSE(std::filesystem::exists(tmp_->path() + "/fixtures/sys"));  // filtered out
}

TEST_F(FixtureProbeTest, ScanFillsEveryFieldOfPid26231) {
  ProcfsProbe probe(root_);
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  // 26232 (stat, no status), 26233 (cmdline only), 26234, 26235 (status only), 27079 and
  // 584 (stat only) are incomplete: skipped whole. "self", "sys", ... are not PIDs.
  ASSERT_THAT(Pids(rows), ElementsAre(26231));
  const ProcessRecord& r = rows[0];
  EXPECT_EQ(r.pid, 26231);
  EXPECT_EQ(r.ppid, 5392);
  EXPECT_EQ(r.name, "vim");                 // comm from stat (status says "prometheus")
  EXPECT_EQ(r.cmdline, "vim test.go +10");
  EXPECT_EQ(r.uid, 1000u);
  EXPECT_EQ(r.state, ProcessState::kRunning);
  EXPECT_FALSE(r.kernel_thread);            // flags 4218880 = 0x406000
  EXPECT_EQ(r.vms_bytes, 56274944u);        // stat vsize
  EXPECT_EQ(r.rss_bytes, 6716u * 1024);     // status VmRSS (= statm resident), not stat's 1981 pages
  EXPECT_EQ(r.threads, 1u);
  EXPECT_EQ(r.fds, 5u);                     // fd/0 1 2 3 10
  EXPECT_EQ(r.read_bytes, 1024u);
  EXPECT_EQ(r.write_bytes, 2048u);
  EXPECT_EQ(r.start_ticks, 82375u);
  EXPECT_DOUBLE_EQ(r.start_time_unix, 1418183276.0 + 82375.0 / kTck);  // btime of <root>/stat
  EXPECT_DOUBLE_EQ(r.cpu_seconds, (1677.0 + 44.0) / kTck);
  EXPECT_FALSE(r.cpu.pct_5s.has_value());
  EXPECT_TRUE(r.container.empty());
}

TEST_F(FixtureProbeTest, SampleCpuReadsEveryPidWithAStatFile) {
  ProcfsProbe probe(root_);
  std::vector<CpuSample> samples;
  ASSERT_TRUE(probe.SampleCpu(&samples).ok());
  ASSERT_THAT(Pids(samples), ElementsAre(584, 26231, 26232, 27079));
  EXPECT_EQ(samples[0].start_ticks, 10839175u);  // comm "(a b ) ( c d) ", two lines
  EXPECT_DOUBLE_EQ(samples[0].cpu_seconds, 0.0);
  EXPECT_EQ(samples[1].start_ticks, 82375u);
  EXPECT_DOUBLE_EQ(samples[1].start_time_unix, 1418183276.0 + 82375.0 / kTck);
  EXPECT_DOUBLE_EQ(samples[1].cpu_seconds, (1677.0 + 44.0) / kTck);
  EXPECT_EQ(samples[2].start_ticks, 5u);
  EXPECT_DOUBLE_EQ(samples[3].cpu_seconds, (58125.0 + 15.0) / kTck);
}

TEST_F(FixtureProbeTest, ReusedOutputIsReplacedNotAppended) {
  ProcfsProbe probe(root_);
  std::vector<ProcessRecord> rows(3);
  rows[0].container.container_id = "stale";
  rows[0].cpu.pct_5s = 12.0;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].container.empty());
  EXPECT_FALSE(rows[0].cpu.pct_5s.has_value());
  ASSERT_TRUE(probe.Scan(&rows).ok());
  EXPECT_THAT(Pids(rows), ElementsAre(26231));
}

TEST(ProcfsProbeTest, MissingRootOrBtimeIsAnError) {
  testing::TempDir tmp;
  std::vector<ProcessRecord> rows;
  std::vector<CpuSample> samples;
  ProcfsProbe missing(tmp.path() + "/nope");
  EXPECT_FALSE(missing.Scan(&rows).ok());
  EXPECT_FALSE(missing.SampleCpu(&samples).ok());
  ProcfsProbe no_btime(tmp.path());  // exists but has no "stat"
  EXPECT_FALSE(no_btime.Scan(&rows).ok());
  EXPECT_FALSE(no_btime.SampleCpu(&samples).ok());
}

// --- A hostile tree built here ----------------------------------------------------------

void Write(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::string Stat(int pid, const std::string& comm, char state, uint32_t flags, int ppid = 1) {
  return std::to_string(pid) + " (" + comm + ") " + state + " " + std::to_string(ppid) +
         " 1 1 0 -1 " + std::to_string(flags) +
         " 0 0 0 0 300 200 0 0 20 0 2 0 1000 8192000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 "
         "0 0 0 17 0 0 0 0 0 0\n";
}

std::string Status(uint32_t uid) {
  return "Name:\tx\nState:\tS (sleeping)\nUid:\t" + std::to_string(uid) + "\t" +
         std::to_string(uid) + "\t0\t0\nVmRSS:\t     512 kB\nThreads:\t2\n";
}

constexpr char kIo[] = "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 4096\n"
                       "write_bytes: 8192\ncancelled_write_bytes: 0\n";

class HostileTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() + "/proc";
    Write(root_ + "/stat", "cpu  1 2 3 4\nbtime 1700000000\nprocesses 5\n");
    // 100: comm "a) (b", a cmdline with commas, quotes, a newline and non-UTF-8 bytes.
    AddUser(100, "a) (b", 'S', "prog\0--list=a,b\0\"quoted\" 'single'\0line1\nline2\0\xff\xfe\x80\0"s,
            3);
    // 101: no io file at all (kernel without task io accounting): unknown, row kept.
    AddUser(101, "noio", 'S', "noio\0"s, 1);
    std::filesystem::remove(root_ + "/101/io");
    // 102: zombie: empty cmdline, empty fd folder.
    AddUser(102, "defunct", 'Z', ""s, 0);
    // 103: kernel thread (PF_KTHREAD): no cmdline or fd files at all, proving they are not
    // read (a user process without cmdline would be dropped as vanished); no io either.
    Write(Dir(103) + "/stat", Stat(103, "kworker/0:1-events", 'I', 0x00208040, 2));
    Write(Dir(103) + "/status", "Name:\tkworker\nUid:\t0\t0\t0\t0\nThreads:\t1\n");  // no VmRSS
    // 112: kernel thread with a readable io file: its I/O is reported.
    Write(Dir(112) + "/stat", Stat(112, "jbd2/sda1-8", 'S', 0x00208040, 2));
    Write(Dir(112) + "/status", Status(0));
    Write(Dir(112) + "/io", kIo);
    // 104: stat but no status: vanished mid-read, dropped whole.
    Write(Dir(104) + "/stat", Stat(104, "gone", 'S', 0x400000));
    // 105: an empty folder; 106: a garbage stat.
    std::filesystem::create_directories(Dir(105));
    AddUser(106, "garbage", 'S', "x\0"s, 1);
    Write(Dir(106) + "/stat", "106 (garbage) S not numbers at all\n");
    // 107: no fd folder: fds unknown, row kept.
    AddUser(107, "nofd", 'S', "nofd\0"s, 0);
    std::filesystem::remove_all(Dir(107) + "/fd");
    // 108: io unreadable (a folder: read fails, like permission denied): unknown, row kept.
    AddUser(108, "ioerr", 'S', "ioerr\0"s, 2);
    std::filesystem::remove(Dir(108) + "/io");
    std::filesystem::create_directories(Dir(108) + "/io");
    // 109: stat and status but no cmdline: a user process that vanished, dropped.
    AddUser(109, "nocmd", 'S', ""s, 1);
    std::filesystem::remove(Dir(109) + "/cmdline");
    // 111: garbage io: unknown, row kept (the process still exists).
    AddUser(111, "badio", 'S', "badio\0"s, 1);
    Write(Dir(111) + "/io", "read_bytes: lots\nwrite_bytes: 1\n");
    // Not PIDs.
    std::filesystem::create_symlink("100", root_ + "/self");
    std::filesystem::create_directories(root_ + "/sys");
    Write(root_ + "/123abc", "x");
    Write(root_ + "/4242", "a file named like a pid");
  }

  std::string Dir(int pid) const { return root_ + "/" + std::to_string(pid); }

  void AddUser(int pid, const std::string& comm, char state, const std::string& cmdline,
               int fds) {
    Write(Dir(pid) + "/stat", Stat(pid, comm, state, 0x400100));
    Write(Dir(pid) + "/status", Status(1234));
    Write(Dir(pid) + "/cmdline", cmdline);
    Write(Dir(pid) + "/io", kIo);
    std::filesystem::create_directories(Dir(pid) + "/fd");
    for (int i = 0; i < fds; ++i) {
      std::filesystem::create_symlink("/dev/null", Dir(pid) + "/fd/" + std::to_string(i));
    }
  }

  testing::TempDir tmp_;
  std::string root_;
};

TEST_F(HostileTreeTest, KeepsCompleteRowsDropsVanishedOnes) {
  ProcfsProbe probe(root_);
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  EXPECT_THAT(Pids(rows), ElementsAre(100, 101, 102, 103, 107, 108, 111, 112));
}

TEST_F(HostileTreeTest, HostileCommAndCmdlineSurviveByteForByte) {
  ProcfsProbe probe(root_);
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  const ProcessRecord* r = Find(rows, 100);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "a) (b");
  EXPECT_EQ(r->cmdline, "prog --list=a,b \"quoted\" 'single' line1\nline2 \xff\xfe\x80");
  EXPECT_EQ(r->uid, 1234u);
  EXPECT_EQ(r->state, ProcessState::kSleeping);
  EXPECT_FALSE(r->kernel_thread);
  EXPECT_EQ(r->fds, 3u);
  EXPECT_EQ(r->read_bytes, 4096u);
  EXPECT_EQ(r->write_bytes, 8192u);
  EXPECT_EQ(r->threads, 2u);
  EXPECT_EQ(r->vms_bytes, 8192000u);
  EXPECT_EQ(r->rss_bytes, 512u * 1024);  // VmRSS, not stat's 100 pages
  EXPECT_DOUBLE_EQ(r->cpu_seconds, 500.0 / kTck);
  EXPECT_DOUBLE_EQ(r->start_time_unix, 1700000000.0 + 1000.0 / kTck);
}

TEST_F(HostileTreeTest, UnreadableIoAndFdAreUnknownNotZero) {
  ProcfsProbe probe(root_);
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  const ProcessRecord* noio = Find(rows, 101);
  ASSERT_NE(noio, nullptr);
  EXPECT_FALSE(noio->read_bytes.has_value());
  EXPECT_FALSE(noio->write_bytes.has_value());
  EXPECT_EQ(noio->fds, 1u);
  const ProcessRecord* ioerr = Find(rows, 108);
  ASSERT_NE(ioerr, nullptr);
  EXPECT_FALSE(ioerr->read_bytes.has_value());
  EXPECT_FALSE(ioerr->write_bytes.has_value());
  EXPECT_EQ(ioerr->fds, 2u);
  const ProcessRecord* badio = Find(rows, 111);
  ASSERT_NE(badio, nullptr);
  EXPECT_FALSE(badio->read_bytes.has_value());
  EXPECT_EQ(badio->fds, 1u);
  const ProcessRecord* nofd = Find(rows, 107);
  ASSERT_NE(nofd, nullptr);
  EXPECT_FALSE(nofd->fds.has_value());
  EXPECT_EQ(nofd->read_bytes, 4096u);
}

TEST_F(HostileTreeTest, ZombieAndKernelThread) {
  ProcfsProbe probe(root_);
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  const ProcessRecord* zombie = Find(rows, 102);
  ASSERT_NE(zombie, nullptr);
  EXPECT_EQ(zombie->state, ProcessState::kZombie);
  EXPECT_EQ(zombie->cmdline, "");
  EXPECT_EQ(zombie->fds, 0u);
  EXPECT_FALSE(zombie->kernel_thread);

  const ProcessRecord* kthread = Find(rows, 103);
  ASSERT_NE(kthread, nullptr);
  EXPECT_TRUE(kthread->kernel_thread);
  EXPECT_EQ(kthread->name, "kworker/0:1-events");
  EXPECT_EQ(kthread->state, ProcessState::kIdle);
  EXPECT_EQ(kthread->ppid, 2);
  EXPECT_EQ(kthread->uid, 0u);
  EXPECT_EQ(kthread->cmdline, "");
  EXPECT_EQ(kthread->fds, 0u);  // kernel threads have no file table
  EXPECT_FALSE(kthread->read_bytes.has_value());  // no io file: unknown
  EXPECT_EQ(kthread->rss_bytes, 0u);               // no VmRSS: no mm

  const ProcessRecord* jbd2 = Find(rows, 112);
  ASSERT_NE(jbd2, nullptr);
  EXPECT_TRUE(jbd2->kernel_thread);
  EXPECT_EQ(jbd2->read_bytes, 4096u);  // kernel threads' io is read where readable
  EXPECT_EQ(jbd2->write_bytes, 8192u);
}

TEST_F(HostileTreeTest, SampleCpuNeedsOnlyAParsableStat) {
  ProcfsProbe probe(root_);
  std::vector<CpuSample> samples;
  ASSERT_TRUE(probe.SampleCpu(&samples).ok());
  // 104 and 109 (no status / no cmdline) are still sampled; 105 (empty), 106 (garbage) not.
  EXPECT_THAT(Pids(samples), ElementsAre(100, 101, 102, 103, 104, 107, 108, 109, 111, 112));
  for (const CpuSample& s : samples) {
    EXPECT_EQ(s.start_ticks, 1000u);
    EXPECT_DOUBLE_EQ(s.cpu_seconds, 500.0 / kTck);
    EXPECT_DOUBLE_EQ(s.start_time_unix, 1700000000.0 + 1000.0 / kTck);
  }
}

TEST_F(HostileTreeTest, BtimeIsCachedAfterTheFirstRead) {
  ProcfsProbe probe(root_);
  std::vector<CpuSample> samples;
  ASSERT_TRUE(probe.SampleCpu(&samples).ok());
  Write(root_ + "/stat", "btime 5\n");
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  ASSERT_FALSE(rows.empty());
  EXPECT_DOUBLE_EQ(rows[0].start_time_unix, 1700000000.0 + 1000.0 / kTck);
}

TEST_F(HostileTreeTest, AReadProblemIsLoggedOncePerCauseNotPerPid) {
  // 101 and 108 both lack a readable io; two scans: at most one line per cause.
  AddUser(110, "noio2", 'S', "noio2\0"s, 0);
  std::filesystem::remove(Dir(110) + "/io");
  ProcfsProbe probe(root_);
  std::vector<ProcessRecord> rows;
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(probe.Scan(&rows).ok());
  ASSERT_TRUE(probe.Scan(&rows).ok());
  const std::string log = ::testing::internal::GetCapturedStderr();
  size_t missing_io_lines = 0;
  for (size_t pos = 0; (pos = log.find("file=io errno=ENOENT", pos)) != std::string::npos; ++pos) {
    ++missing_io_lines;
  }
  EXPECT_EQ(missing_io_lines, 1u) << log;
  EXPECT_EQ(rows.size(), 9u);
}

TEST_F(HostileTreeTest, AFileThatReadsAgainIsLoggedAsRecovered) {
  // 108's io is unreadable (a folder): logged; once it reads again, one "reads again" line;
  // when it breaks again, logged again at once (not once per lifetime).
  ProcfsProbe probe(root_);
  std::vector<ProcessRecord> rows;
  std::filesystem::remove_all(root_ + "/101");  // 108 and 111: the io problems
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(probe.Scan(&rows).ok());
  std::filesystem::remove_all(Dir(108) + "/io");
  std::filesystem::remove(Dir(111) + "/io");
  Write(Dir(108) + "/io", kIo);
  Write(Dir(111) + "/io", kIo);
  ASSERT_TRUE(probe.Scan(&rows).ok());
  ASSERT_TRUE(probe.Scan(&rows).ok());  // still fine: no second recovery line
  std::filesystem::remove(Dir(108) + "/io");
  std::filesystem::create_directories(Dir(108) + "/io");
  ASSERT_TRUE(probe.Scan(&rows).ok());
  const std::string log = ::testing::internal::GetCapturedStderr();
  auto count = [&log](const std::string& what) {
    size_t n = 0;
    for (size_t pos = 0; (pos = log.find(what, pos)) != std::string::npos; ++pos) ++n;
    return n;
  };
  EXPECT_EQ(count("reads again for every process"), 1u) << log;
  EXPECT_EQ(count("file=io proc_root="), 1u) << log;  // the recovery line names the file
  EXPECT_EQ(count("file=io errno="), 3u) << log;  // 108 (EISDIR) + 111 (garbage), then 108 again
}

TEST_F(HostileTreeTest, ScanAndSampleCpuCanRunConcurrently) {
  // The sampler thread and a scrape share one probe: each pass has its own buffers.
  ProcfsProbe probe(root_);
  std::vector<ProcessRecord> expected_rows;
  std::vector<CpuSample> expected_samples;
  ASSERT_TRUE(probe.Scan(&expected_rows).ok());
  ASSERT_TRUE(probe.SampleCpu(&expected_samples).ok());
  bool scans_equal = true, samples_equal = true;
  std::thread scanner([&] {
    std::vector<ProcessRecord> rows;
    for (int i = 0; i < 30; ++i) {
      scans_equal &= probe.Scan(&rows).ok() && Pids(rows) == Pids(expected_rows) &&
                     rows[0].cmdline == expected_rows[0].cmdline;
    }
  });
  std::thread sampler([&] {
    std::vector<CpuSample> samples;
    for (int i = 0; i < 30; ++i) {
      samples_equal &= probe.SampleCpu(&samples).ok() && Pids(samples) == Pids(expected_samples);
    }
  });
  scanner.join();
  sampler.join();
  EXPECT_TRUE(scans_equal);
  EXPECT_TRUE(samples_equal);
}

}  // namespace
}  // namespace nodeproc

// --- Command lines: capped, cut visibly, read once per process ------------------------------

namespace nodeproc {
namespace {

class CmdlineTest : public HostileTreeTest {};

TEST_F(CmdlineTest, LongCmdlineIsCutAtTheCapWithTheMarker) {
  AddUser(200, "long", 'S', std::string(10000, 'a') + "\0-x\0"s, 0);
  AddUser(201, "exact", 'S', std::string(100, 'b'), 0);
  // A two-byte character straddling the cap is dropped whole, not cut in half.
  AddUser(202, "utf8", 'S', std::string(99, 'c') + "\xc3\xa9tail", 0);
  // An endless file: the read stops at the cap (a whole-file read would never return).
  AddUser(203, "endless", 'S', "", 0);
  std::filesystem::remove(Dir(203) + "/cmdline");
  std::filesystem::create_symlink("/dev/zero", Dir(203) + "/cmdline");
  ProcfsProbe probe(root_, 100);
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  const std::string marker(kCmdlineTruncatedMarker);
  ASSERT_NE(Find(rows, 200), nullptr);
  EXPECT_EQ(Find(rows, 200)->cmdline, std::string(100, 'a') + marker);
  ASSERT_NE(Find(rows, 201), nullptr);
  EXPECT_EQ(Find(rows, 201)->cmdline, std::string(100, 'b'));
  ASSERT_NE(Find(rows, 202), nullptr);
  EXPECT_EQ(Find(rows, 202)->cmdline, std::string(99, 'c') + marker);
  ASSERT_NE(Find(rows, 203), nullptr);
  EXPECT_EQ(Find(rows, 203)->cmdline, std::string(100, ' ') + marker);
  // The default cap keeps ordinary command lines whole.
  ProcfsProbe defaults(root_);
  ASSERT_TRUE(defaults.Scan(&rows).ok());
  EXPECT_EQ(Find(rows, 200)->cmdline.size(), kDefaultMaxCmdlineBytes + marker.size());
  EXPECT_EQ(Find(rows, 100)->cmdline,
            "prog --list=a,b \"quoted\" 'single' line1\nline2 \xff\xfe\x80");
}

TEST_F(CmdlineTest, ReadOncePerProcessAndCachedOnlyForLiveOnes) {
  ProcfsProbe probe(root_);
  std::vector<ProcessRecord> rows;
  ASSERT_TRUE(probe.Scan(&rows).ok());
  const size_t live_user = 6;  // 100, 101, 102, 107, 108, 111 (103 is a kernel thread)
  EXPECT_EQ(probe.cached_cmdlines_for_test(), live_user);

  // Same process (pid, start time, comm): the cached value, not the file, is used.
  Write(Dir(101) + "/cmdline", "changed\0"s);
  ASSERT_TRUE(probe.Scan(&rows).ok());
  EXPECT_EQ(Find(rows, 101)->cmdline, "noio");
  // An exec changes comm: read again.
  Write(Dir(101) + "/stat", Stat(101, "changed", 'S', 0x400100));
  ASSERT_TRUE(probe.Scan(&rows).ok());
  EXPECT_EQ(Find(rows, 101)->cmdline, "changed");
  // PID reuse (another start time): read again.
  Write(Dir(101) + "/cmdline", "reused\0"s);
  std::string stat = Stat(101, "changed", 'S', 0x400100);
  stat.replace(stat.find(" 1000 8192000"), 13, " 2000 8192000");
  Write(Dir(101) + "/stat", stat);
  ASSERT_TRUE(probe.Scan(&rows).ok());
  EXPECT_EQ(Find(rows, 101)->cmdline, "reused");

  // Gone processes leave the cache at the next scan.
  std::filesystem::remove_all(Dir(100));
  std::filesystem::remove_all(Dir(107));
  ASSERT_TRUE(probe.Scan(&rows).ok());
  EXPECT_EQ(Find(rows, 100), nullptr);
  EXPECT_EQ(probe.cached_cmdlines_for_test(), live_user - 2);
}

}  // namespace
}  // namespace nodeproc

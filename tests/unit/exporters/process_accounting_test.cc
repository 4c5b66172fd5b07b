// The accounting rule of group counters (exporters/process_accounting.h): members that exit
// keep their contribution, a process that changes series set takes only its later increments,
// folds and caps never make a counter drop or count twice, exit records add what scans missed.
#include "exporters/process_accounting.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nodeproc {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

ProcessRecord Proc(int32_t pid, uint64_t start, const std::string& name, double cpu,
                   std::optional<uint64_t> read = std::nullopt,
                   std::optional<uint64_t> write = std::nullopt) {
  ProcessRecord p;
  p.pid = pid;
  p.start_ticks = start;
  p.name = name;
  p.cpu_seconds = cpu;
  p.read_bytes = read;
  p.write_bytes = write;
  p.rss_bytes = 1000;
  return p;
}

ProcessRecord InPod(ProcessRecord p, const std::string& pod, const std::string& container = "c") {
  p.container.pod_uid = "uid-" + pod;
  p.container.pod_namespace = "ns";
  p.container.pod_name = pod;
  p.container.container_name = container;
  return p;
}

ProcessSeriesKey Key(const std::string& name, int64_t pid = -1, const std::string& pod = "",
                     const std::string& container = "") {
  return ProcessSeriesKey{pod.empty() ? "" : "ns", pod, container, name, pid};
}

const ProcessSeries* Find(const ProcessSeriesSet& set, const ProcessSeriesKey& key) {
  for (const ProcessSeries& s : set.series) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

double Cpu(const ProcessSeriesSet& set, const ProcessSeriesKey& key) {
  const ProcessSeries* s = Find(set, key);
  EXPECT_NE(s, nullptr) << key.name << " pid " << key.pid;
  return s == nullptr ? -1 : s->cpu_seconds;
}

double TotalCpu(const ProcessSeriesSet& set) {
  double total = 0;
  for (const ProcessSeries& s : set.series) total += s.cpu_seconds;
  return total;
}

TEST(ProcessAccountingTest, MemberThatExitsKeepsItsContribution) {
  // The reproduction of issue 14: two npburner, one exits: 4.35 -> 4.17 before.
  ProcessAccounting acc({});
  auto s1 = acc.Observe(kT0, {Proc(10, 1, "npburner", 2.0), Proc(11, 1, "npburner", 2.35)});
  EXPECT_DOUBLE_EQ(Cpu(*s1, Key("npburner")), 4.35);
  auto s2 = acc.Observe(kT0 + absl::Seconds(5), {Proc(10, 1, "npburner", 4.17 - 2.35 + 2.0)});
  // 2.35 (exited) + 3.82 (the survivor's whole counter).
  EXPECT_DOUBLE_EQ(Cpu(*s2, Key("npburner")), 2.35 + 3.82);
  EXPECT_EQ(Find(*s2, Key("npburner"))->processes, 1u);
}

TEST(ProcessAccountingTest, IoCountersKeepExitedMembersAndStayUnknownWhenNeverRead) {
  ProcessAccounting acc({});
  auto s1 = acc.Observe(kT0, {Proc(10, 1, "db", 1, 100, 50), Proc(11, 1, "db", 1, 200, 70),
                              Proc(12, 1, "noio", 1)});
  EXPECT_EQ(Find(*s1, Key("db"))->read_bytes, 300);
  EXPECT_EQ(Find(*s1, Key("db"))->write_bytes, 120);
  EXPECT_FALSE(Find(*s1, Key("noio"))->read_bytes.has_value());
  auto s2 = acc.Observe(kT0 + absl::Seconds(5), {Proc(10, 1, "db", 1, 150, 50), Proc(12, 1, "noio", 1)});
  EXPECT_EQ(Find(*s2, Key("db"))->read_bytes, 350);
  EXPECT_EQ(Find(*s2, Key("db"))->write_bytes, 120);
  // /proc/<pid>/io unreadable for one scan: nothing added, nothing lost.
  auto s3 = acc.Observe(kT0 + absl::Seconds(10), {Proc(10, 1, "db", 1), Proc(12, 1, "noio", 1)});
  EXPECT_EQ(Find(*s3, Key("db"))->read_bytes, 350);
  auto s4 = acc.Observe(kT0 + absl::Seconds(15), {Proc(10, 1, "db", 1, 160, 55)});
  EXPECT_EQ(Find(*s4, Key("db"))->read_bytes, 360);
  EXPECT_EQ(Find(*s4, Key("db"))->write_bytes, 125);
}

TEST(ProcessAccountingTest, LabelsArrivingLateMoveOnlyLaterIncrements) {
  ProcessAccounting acc({});
  auto s1 = acc.Observe(kT0, {Proc(10, 1, "app", 1.0)});
  EXPECT_DOUBLE_EQ(Cpu(*s1, Key("app")), 1.0);
  // The kubelet answered: the same process is now in its pod's group.
  auto s2 = acc.Observe(kT0 + absl::Seconds(5), {InPod(Proc(10, 1, "app", 1.5), "web")});
  EXPECT_DOUBLE_EQ(Cpu(*s2, Key("app")), 1.0);  // stays (no drop), no live member
  EXPECT_EQ(Find(*s2, Key("app"))->processes, 0u);
  EXPECT_DOUBLE_EQ(Cpu(*s2, Key("app", -1, "web", "c")), 0.5);  // not 1.5: no double count
  EXPECT_DOUBLE_EQ(TotalCpu(*s2), 1.5);
}

TEST(ProcessAccountingTest, SeriesOfGoneGroupsLeaveAfterTheGracePeriod) {
  AccountingOptions options;
  options.grace = absl::Minutes(5);
  ProcessAccounting acc(options);
  acc.Observe(kT0, {Proc(10, 1, "job", 3.0), Proc(11, 1, "keep", 1.0)});
  auto gone = acc.Observe(kT0 + absl::Seconds(5), {Proc(11, 1, "keep", 1.0)});
  ASSERT_NE(Find(*gone, Key("job")), nullptr);
  // The grace period runs from the last scan that saw a member (kT0).
  auto at_grace = acc.Observe(kT0 + absl::Minutes(5), {Proc(11, 1, "keep", 1.0)});
  ASSERT_NE(Find(*at_grace, Key("job")), nullptr);
  EXPECT_DOUBLE_EQ(Cpu(*at_grace, Key("job")), 3.0);
  auto after = acc.Observe(kT0 + absl::Minutes(5) + absl::Seconds(1), {Proc(11, 1, "keep", 1.0)});
  EXPECT_EQ(Find(*after, Key("job")), nullptr);
  EXPECT_NE(Find(*after, Key("keep")), nullptr);
  // A "job" process again, after the series went: it continues from 3.0 (a restart from its
  // new member's 0.25 would be a counter reset for Prometheus).
  auto again = acc.Observe(kT0 + absl::Minutes(20), {Proc(12, 9, "job", 0.25)});
  EXPECT_DOUBLE_EQ(Cpu(*again, Key("job")), 3.25);
  // A member coming back within the grace period continues the series.
  ProcessAccounting acc2(options);
  acc2.Observe(kT0, {Proc(10, 1, "job", 3.0)});
  acc2.Observe(kT0 + absl::Minutes(1), {});
  auto back = acc2.Observe(kT0 + absl::Minutes(2), {Proc(20, 7, "job", 0.5)});
  EXPECT_DOUBLE_EQ(Cpu(*back, Key("job")), 3.5);
}

TEST(ProcessAccountingTest, PidReuseContinuesThePidSeries) {
  AccountingOptions options;
  options.per_pid = true;
  ProcessAccounting acc(options);
  auto s1 = acc.Observe(kT0, {Proc(100, 1, "worker", 5.0)});
  EXPECT_DOUBLE_EQ(Cpu(*s1, Key("worker", 100)), 5.0);
  // pid 100 exits and a new "worker" gets pid 100 (later start): 5 -> 6, not 5 -> 1.
  auto s2 = acc.Observe(kT0 + absl::Seconds(5), {Proc(100, 2, "worker", 1.0)});
  EXPECT_DOUBLE_EQ(Cpu(*s2, Key("worker", 100)), 6.0);
  // Same in group mode.
  ProcessAccounting group({});
  group.Observe(kT0, {Proc(100, 1, "worker", 5.0)});
  auto g2 = group.Observe(kT0 + absl::Seconds(5), {Proc(100, 2, "worker", 1.0)});
  EXPECT_DOUBLE_EQ(Cpu(*g2, Key("worker")), 6.0);
}

TEST(ProcessAccountingTest, PidModeFoldingInAndOutOfOtherNeverDropsNorCountsTwice) {
  AccountingOptions options;
  options.per_pid = true;
  options.max_series = 1;
  ProcessAccounting acc(options);
  auto a = [](double cpu, double pct) {
    ProcessRecord p = InPod(Proc(1, 1, "a", cpu), "web");
    p.cpu.pct_2m = pct;
    return p;
  };
  auto b = [](double cpu, double pct) {
    ProcessRecord p = InPod(Proc(2, 1, "b", cpu), "web");
    p.cpu.pct_2m = pct;
    return p;
  };
  const ProcessSeriesKey ka = Key("a", 1, "web", "c");
  const ProcessSeriesKey kb = Key("b", 2, "web", "c");
  const ProcessSeriesKey other{"ns", "web", "", "other", -1};
  auto s1 = acc.Observe(kT0, {a(10, 50), b(2, 1)});
  EXPECT_DOUBLE_EQ(Cpu(*s1, ka), 10);
  EXPECT_DOUBLE_EQ(Cpu(*s1, other), 2);
  EXPECT_EQ(Find(*s1, kb), nullptr);
  EXPECT_EQ(s1->folded, 1u);
  // b now ranks first: it gets its own series with only its new increment; a's increments go
  // to other; nothing moves backwards.
  auto s2 = acc.Observe(kT0 + absl::Seconds(5), {a(11, 1), b(6, 80)});
  EXPECT_DOUBLE_EQ(Cpu(*s2, ka), 10);
  EXPECT_DOUBLE_EQ(Cpu(*s2, kb), 4);
  EXPECT_DOUBLE_EQ(Cpu(*s2, other), 3);
  EXPECT_DOUBLE_EQ(TotalCpu(*s2), 17);
  // And back.
  auto s3 = acc.Observe(kT0 + absl::Seconds(10), {a(15, 90), b(7, 1)});
  EXPECT_DOUBLE_EQ(Cpu(*s3, ka), 14);
  EXPECT_DOUBLE_EQ(Cpu(*s3, kb), 4);
  EXPECT_DOUBLE_EQ(Cpu(*s3, other), 4);
  EXPECT_DOUBLE_EQ(TotalCpu(*s3), 22);
}

TEST(ProcessAccountingTest, GroupModeIsCappedWithOtherFolding) {
  AccountingOptions options;
  options.max_series = 2;
  ProcessAccounting acc(options);
  std::vector<ProcessRecord> live;
  for (int i = 0; i < 5; ++i) {
    ProcessRecord p = InPod(Proc(10 + i, 1, "g" + std::to_string(i), 1.0 + i), "web");
    p.cpu.pct_2m = 10.0 * i;
    live.push_back(p);
  }
  auto s = acc.Observe(kT0, live);
  EXPECT_EQ(s->folded, 3u);
  EXPECT_NE(Find(*s, Key("g4", -1, "web", "c")), nullptr);
  EXPECT_NE(Find(*s, Key("g3", -1, "web", "c")), nullptr);
  EXPECT_EQ(Find(*s, Key("g2", -1, "web", "c")), nullptr);
  const ProcessSeries* other = Find(*s, ProcessSeriesKey{"ns", "web", "", "other", -1});
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->fold);
  EXPECT_EQ(other->processes, 3u);
  EXPECT_DOUBLE_EQ(other->cpu_seconds, 1 + 2 + 3);
  size_t named = 0;
  for (const ProcessSeries& x : s->series) named += x.fold ? 0 : 1;
  EXPECT_EQ(named, 2u);
}

TEST(ProcessAccountingTest, GroupsWaitingOutTheirGraceCountAgainstTheCap) {
  AccountingOptions options;
  options.max_series = 2;
  ProcessAccounting acc(options);
  acc.Observe(kT0, {Proc(1, 1, "old1", 1), Proc(2, 1, "old2", 1)});
  // Both gone, two new groups: the cap holds (2 named series rendered), the new ones fold.
  auto s = acc.Observe(kT0 + absl::Seconds(5), {Proc(3, 1, "new1", 1), Proc(4, 1, "new2", 1)});
  size_t named = 0;
  for (const ProcessSeries& x : s->series) named += x.fold ? 0 : 1;
  EXPECT_EQ(named, 2u);
  EXPECT_EQ(s->folded, 2u);
  EXPECT_DOUBLE_EQ(TotalCpu(*s), 4);
}

TEST(ProcessAccountingTest, ExitRecordAddsOnlyThePartNoScanSaw) {
  ProcessAccounting acc({});
  acc.Observe(kT0, {Proc(10, 1, "job", 1.0, 10, 20)});
  // It ran on after the scan and exited: the record has its final counters.
  auto s = acc.Observe(kT0 + absl::Seconds(5), {}, {Proc(10, 1, "job", 1.7, 15, 20)});
  EXPECT_DOUBLE_EQ(Cpu(*s, Key("job")), 1.7);
  EXPECT_EQ(Find(*s, Key("job"))->read_bytes, 15);
  EXPECT_EQ(Find(*s, Key("job"))->write_bytes, 20);
}

TEST(ProcessAccountingTest, ExitRecordOfAProcessNoScanSawCountsWhole) {
  ProcessAccounting acc({});
  acc.Observe(kT0, {InPod(Proc(10, 1, "sh", 1.0), "web")});
  auto s = acc.Observe(kT0 + absl::Seconds(5), {InPod(Proc(10, 1, "sh", 1.0), "web")},
                       {InPod(Proc(11, 3, "sh", 0.3, 4096, 0), "web"),
                        InPod(Proc(12, 3, "curl", 0.2), "web")});
  EXPECT_DOUBLE_EQ(Cpu(*s, Key("sh", -1, "web", "c")), 1.3);
  EXPECT_EQ(Find(*s, Key("sh", -1, "web", "c"))->read_bytes, 4096);
  EXPECT_DOUBLE_EQ(Cpu(*s, Key("curl", -1, "web", "c")), 0.2);  // a group of its own
  EXPECT_EQ(Find(*s, Key("curl", -1, "web", "c"))->processes, 0u);
}

TEST(ProcessAccountingTest, ExitRecordOfAZombieTheScanStillListsIsNotCountedTwice) {
  ProcessAccounting acc({});
  acc.Observe(kT0, {Proc(10, 1, "job", 1.0)});
  auto s = acc.Observe(kT0 + absl::Seconds(5), {Proc(10, 1, "job", 2.0)},
                       {Proc(10, 1, "job", 2.0)});
  EXPECT_DOUBLE_EQ(Cpu(*s, Key("job")), 2.0);
  // Record first, the next scan still lists it: nothing more.
  auto s2 = acc.Observe(kT0 + absl::Seconds(10), {Proc(10, 1, "job", 2.0)});
  EXPECT_DOUBLE_EQ(Cpu(*s2, Key("job")), 2.0);
}

TEST(ProcessAccountingTest, ExitRecordDrainedAfterTheScanThatMissedItStillFindsWhatWasCounted) {
  ProcessAccounting acc({});
  acc.Observe(kT0, {Proc(10, 1, "job", 1.0)});
  acc.Observe(kT0 + absl::Seconds(5), {});  // gone before this scan, record not drained yet
  auto s = acc.Observe(kT0 + absl::Seconds(10), {}, {Proc(10, 1, "job", 1.25)});
  EXPECT_DOUBLE_EQ(Cpu(*s, Key("job")), 1.25);
}

TEST(ProcessAccountingTest, ExitRecordInPidModeOfAnUnseenPidGoesToOther) {
  AccountingOptions options;
  options.per_pid = true;
  ProcessAccounting acc(options);
  auto s = acc.Observe(kT0, {InPod(Proc(1, 1, "a", 1), "web")},
                       {InPod(Proc(2, 1, "short", 0.5), "web")});
  EXPECT_DOUBLE_EQ(Cpu(*s, Key("a", 1, "web", "c")), 1);
  EXPECT_DOUBLE_EQ(Cpu(*s, ProcessSeriesKey{"ns", "web", "", "other", -1}), 0.5);
  EXPECT_EQ(Find(*s, Key("short", 2, "web", "c")), nullptr);
}

// Random churn: exits, pid reuse, group changes, folds. Every series is non-decreasing while it
// exists, and (no series expires) the counters add up to every process's last counter.
TEST(ProcessAccountingTest, RandomChurnNeverDecreasesAndConserves) {
  for (bool per_pid : {false, true}) {
    AccountingOptions options;
    options.per_pid = per_pid;
    options.max_series = 4;
    options.grace = absl::Hours(10);
    ProcessAccounting acc(options);
    std::mt19937 rng(per_pid ? 7 : 3);
    struct Live {
      ProcessRecord p;
    };
    std::map<int32_t, ProcessRecord> live;
    std::map<std::pair<int32_t, uint64_t>, double> last_cpu;
    std::map<ProcessSeriesKey, double> previous;
    uint64_t start = 1;
    for (int step = 0; step < 300; ++step) {
      // Churn: start, exit, reuse pids 1..12, move between pods, burn CPU.
      for (int k = 0; k < 3; ++k) {
        const int32_t pid = 1 + static_cast<int32_t>(rng() % 12);
        auto it = live.find(pid);
        if (it == live.end() || rng() % 4 == 0) {
          ProcessRecord p = Proc(pid, ++start, "n" + std::to_string(rng() % 3), 0);
          if (rng() % 2) p = InPod(p, "pod" + std::to_string(rng() % 2));
          live[pid] = p;  // new process (or pid reuse)
        } else if (rng() % 3 == 0) {
          live.erase(it);
        } else if (rng() % 3 == 0) {
          it->second = rng() % 2 ? InPod(it->second, "pod1") : it->second;  // labels arrive
        }
      }
      std::vector<ProcessRecord> scan;
      for (auto& [pid, p] : live) {
        p.cpu_seconds += (rng() % 100) / 100.0;
        p.cpu.pct_2m = rng() % 50;
        last_cpu[{p.pid, p.start_ticks}] = p.cpu_seconds;
        scan.push_back(p);
      }
      auto set = acc.Observe(kT0 + absl::Seconds(5 * step), scan);
      for (const ProcessSeries& s : set->series) {
        auto prev = previous.find(s.key);
        if (prev != previous.end()) {
          ASSERT_GE(s.cpu_seconds, prev->second) << "step " << step << " " << s.key.name;
        }
        previous[s.key] = s.cpu_seconds;
      }
      double expected = 0;
      for (const auto& [id, cpu] : last_cpu) expected += cpu;
      ASSERT_NEAR(TotalCpu(*set), expected, 1e-6) << "step " << step;
    }
    EXPECT_LT(acc.tracked_processes(), 80u);  // exited identities are forgotten (after 30 s)
  }
}

}  // namespace
}  // namespace nodeproc

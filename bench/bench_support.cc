#include "bench/bench_support.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace nodeproc::bench {
namespace {

void WriteFile(const std::string& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(path.c_str());
    std::abort();
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

std::string ReadFileOr(const std::string& path, std::string_view fallback) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string(fallback);
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

constexpr std::string_view kCommands[] = {
    "/usr/bin/containerd-shim-runc-v2 -namespace k8s.io -id 3f1c0e9a7b2d -address /run/containerd/containerd.sock",
    "nginx: worker process",
    "/usr/local/bin/python3 -m gunicorn app:app --workers 4 --bind 0.0.0.0:8080",
    "java -Xmx2g -XX:+UseG1GC -jar /opt/app/service.jar --spring.profiles.active=prod",
    "/pause",
    "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --container-runtime-endpoint=unix:///run/containerd/containerd.sock",
    "/bin/sh -c sleep infinity",
    "/coredns -conf /etc/coredns/Corefile",
    "postgres: checkpointer",
    "/usr/sbin/sshd -D",
};
constexpr std::string_view kNames[] = {"containerd-shim", "nginx", "python3", "java", "pause",
                                       "kubelet", "sh", "coredns", "postgres", "sshd"};

std::string PodUid(int pod) {
  return absl::StrFormat("%08x-1f2e-4d3c-9b8a-%012x", 0x5a000000 + pod, 0x1234567800 + pod);
}
std::string ContainerId(int pod, int c) {
  return absl::StrFormat("%016x%016x%016x%016x", 0xabcdef0000000000ULL + pod, 0x1111ULL * (c + 1),
                         0x2222ULL * (pod + 1), 0x3333ULL * (c + 7));
}

}  // namespace

SyntheticProcTree::SyntheticProcTree(int pids, int fds_per_pid) {
  char tmpl[] = "/tmp/nodeproc-bench-proc.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) std::abort();
  dir_ = tmpl;
  proc_root_ = dir_ + "/proc";
  ::mkdir(proc_root_.c_str(), 0755);
  for (std::string_view top : {"stat", "uptime", "meminfo", "loadavg"}) {
    std::string name(top);
    WriteFile(proc_root_ + "/" + name, ReadFileOr("/proc/" + name, "btime 1700000000\n"));
  }
  for (int i = 0; i < pids; ++i) {
    const int pid = 1000 + i;
    const std::string d = absl::StrCat(proc_root_, "/", pid);
    ::mkdir(d.c_str(), 0755);
    WriteFile(d + "/stat", SampleStatLine(pid));
    WriteFile(d + "/status", SampleStatus(pid));
    WriteFile(d + "/statm", SampleStatm());
    WriteFile(d + "/io", SampleIo());
    std::string cmd(kCommands[i % std::size(kCommands)]);
    for (char& c : cmd) {
      if (c == ' ') c = '\0';
    }
    cmd.push_back('\0');
    WriteFile(d + "/cmdline", cmd);
    WriteFile(d + "/comm", std::string(kNames[i % std::size(kNames)]) + "\n");
    WriteFile(d + "/cgroup", i % 3 == 0 ? SampleCgroupV2() : "0::/system.slice/ssh.service\n");
    const std::string fd_dir = d + "/fd";
    ::mkdir(fd_dir.c_str(), 0755);
    for (int f = 0; f < fds_per_pid; ++f) {
      (void)::symlink("/dev/null", absl::StrCat(fd_dir, "/", f).c_str());
    }
  }
}

SyntheticProcTree::~SyntheticProcTree() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string SampleStatLine(int pid) {
  return absl::StrCat(
      pid,
      " (my (weird) cmd) S 1 ", pid,
      " ", pid,
      " 0 -1 4194560 18350 2341553 12 455 1187 334 8127 1934 20 0 4 0 ", 1234567,
      " 2275299328 51345 18446744073709551615 94613927297024 94613928126757 140730541576704 0 0 "
      "0 0 4096 17663 0 0 0 17 1 0 0 0 0 0 94613928352976 94613928403888 94613940224000 "
      "140730541582905 140730541582989 140730541582989 140730541584351 0\n");
}

std::string SampleStatus(int pid) {
  return absl::StrCat(
      "Name:\tmy (weird) cmd\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t", pid,
      "\nNgid:\t0\nPid:\t", pid,
      "\nPPid:\t1\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
      "FDSize:\t64\nGroups:\t4 24 27 1000 \nNStgid:\t", pid, "\nNSpid:\t", pid, "\nNSpgid:\t", pid,
      "\nNSsid:\t", pid,
      "\nKthread:\t0\nVmPeak:\t 2275300 kB\nVmSize:\t 2221972 kB\nVmLck:\t       0 kB\n"
      "VmPin:\t       0 kB\nVmHWM:\t  205384 kB\nVmRSS:\t  205380 kB\nRssAnon:\t  150060 kB\n"
      "RssFile:\t   55320 kB\nRssShmem:\t       0 kB\nVmData:\t  367060 kB\nVmStk:\t     132 kB\n"
      "VmExe:\t     812 kB\nVmLib:\t   95452 kB\nVmPTE:\t    1080 kB\nVmSwap:\t       0 kB\n"
      "HugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\n"
      "Threads:\t4\nSigQ:\t0/63455\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n"
      "SigBlk:\t0000000000000000\nSigIgn:\t0000000000001000\nSigCgt:\t0000000188004a07\n"
      "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n"
      "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n"
      "Seccomp_filters:\t0\nSpeculation_Store_Bypass:\tthread vulnerable\n"
      "SpeculationIndirectBranch:\tconditional enabled\nCpus_allowed:\tffff\n"
      "Cpus_allowed_list:\t0-15\nMems_allowed:\t00000001\nMems_allowed_list:\t0\n"
      "voluntary_ctxt_switches:\t4372\nnonvoluntary_ctxt_switches:\t95\n");
}

std::string SampleStatm() { return "555493 51345 13830 203 0 91798 0\n"; }

std::string SampleIo() {
  return "rchar: 2417586012\nwchar: 157263421\nsyscr: 1287309\nsyscw: 410239\n"
         "read_bytes: 152076288\nwrite_bytes: 71589888\ncancelled_write_bytes: 3407872\n";
}

std::string SampleCgroupV2() {
  return absl::StrCat("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod",
                      "5a000007_1f2e_4d3c_9b8a_001234567807.slice/cri-containerd-",
                      ContainerId(7, 1), ".scope\n");
}

std::string SampleCgroupV1() {
  const std::string path = absl::StrCat("/kubepods/burstable/pod", PodUid(7), "/", ContainerId(7, 1));
  std::string out;
  const char* controllers[] = {"blkio", "cpu,cpuacct", "cpuset", "devices", "freezer", "hugetlb",
                               "memory", "net_cls,net_prio", "perf_event", "pids", "rdma"};
  int id = 12;
  for (const char* c : controllers) absl::StrAppend(&out, id--, ":", c, ":", path, "\n");
  absl::StrAppend(&out, "1:name=systemd:", path, "\n0::/\n");
  return out;
}

namespace {

void AppendFs(std::string* o, const char* key, uint64_t seed) {
  absl::StrAppend(o, "\"", key, "\":{\"time\":\"2026-11-22T21:00:00Z\",\"availableBytes\":",
                  51234567890 + seed, ",\"capacityBytes\":105087164416,\"usedBytes\":", 40960 + seed,
                  ",\"inodesFree\":6373472,\"inodes\":6553600,\"inodesUsed\":", 12 + seed % 100, "}");
}
void AppendCpu(std::string* o, uint64_t seed) {
  absl::StrAppend(o, "\"cpu\":{\"time\":\"2026-11-22T21:00:00Z\",\"usageNanoCores\":", 1234567 + seed,
                  ",\"usageCoreNanoSeconds\":", 987654321000 + seed * 1000, "}");
}
void AppendMemory(std::string* o, uint64_t seed) {
  absl::StrAppend(o, "\"memory\":{\"time\":\"2026-11-22T21:00:00Z\",\"availableBytes\":", 500000000 + seed,
                  ",\"usageBytes\":", 40000000 + seed, ",\"workingSetBytes\":", 30000000 + seed,
                  ",\"rssBytes\":", 20000000 + seed, ",\"pageFaults\":", 123456 + seed,
                  ",\"majorPageFaults\":", seed % 50, "}");
}
void AppendNetwork(std::string* o, uint64_t seed) {
  std::string iface = absl::StrCat("{\"name\":\"eth0\",\"rxBytes\":", 123456789 + seed,
                                   ",\"rxErrors\":0,\"txBytes\":", 98765432 + seed, ",\"txErrors\":0}");
  absl::StrAppend(o, "\"network\":{\"time\":\"2026-11-22T21:00:00Z\",\"name\":\"eth0\",\"rxBytes\":",
                  123456789 + seed, ",\"rxErrors\":0,\"txBytes\":", 98765432 + seed,
                  ",\"txErrors\":0,\"interfaces\":[", iface, "]}");
}
void AppendContainer(std::string* o, const std::string& name, uint64_t seed) {
  absl::StrAppend(o, "{\"name\":\"", name, "\",\"startTime\":\"2026-11-20T08:15:00Z\",");
  AppendCpu(o, seed);
  o->push_back(',');
  AppendMemory(o, seed);
  o->push_back(',');
  AppendFs(o, "rootfs", seed);
  o->push_back(',');
  AppendFs(o, "logs", seed);
  o->push_back('}');
}

}  // namespace

std::string GenerateSummaryJson(int pods, int containers) {
  std::string o;
  o.reserve(static_cast<size_t>(pods) * containers * 900 + 8192);
  o += "{\"node\":{\"nodeName\":\"worker-1\",\"systemContainers\":[";
  const char* sys[] = {"kubelet", "runtime", "pods"};
  for (int i = 0; i < 3; ++i) {
    if (i) o.push_back(',');
    AppendContainer(&o, sys[i], 100 + i);
  }
  o += "],\"startTime\":\"2026-11-01T00:00:00Z\",";
  AppendCpu(&o, 1);
  o.push_back(',');
  AppendMemory(&o, 1);
  o.push_back(',');
  AppendNetwork(&o, 1);
  o.push_back(',');
  AppendFs(&o, "fs", 1);
  o += ",\"runtime\":{";
  AppendFs(&o, "imageFs", 2);
  o += "},\"rlimit\":{\"time\":\"2026-11-22T21:00:00Z\",\"maxpid\":4194304,\"curproc\":1234}},\"pods\":[";
  for (int p = 0; p < pods; ++p) {
    if (p) o.push_back(',');
    absl::StrAppend(&o, "{\"podRef\":{\"name\":\"app-", p, "-7d9f8c6b5-x2x4q\",\"namespace\":\"team-", p % 7,
                    "\",\"uid\":\"", PodUid(p), "\"},\"startTime\":\"2026-11-20T08:15:00Z\",\"containers\":[");
    for (int c = 0; c < containers; ++c) {
      if (c) o.push_back(',');
      AppendContainer(&o, absl::StrCat("container-", c), static_cast<uint64_t>(p * 10 + c));
    }
    o += "],";
    AppendCpu(&o, static_cast<uint64_t>(p));
    o.push_back(',');
    AppendMemory(&o, static_cast<uint64_t>(p));
    o.push_back(',');
    AppendNetwork(&o, static_cast<uint64_t>(p));
    o += ",\"volume\":[";
    for (int v = 0; v < 2; ++v) {
      if (v) o.push_back(',');
      absl::StrAppend(&o, "{\"time\":\"2026-11-22T21:00:00Z\",\"availableBytes\":", 51234567890 + p,
                      ",\"capacityBytes\":105087164416,\"usedBytes\":", 12288 + v,
                      ",\"inodesFree\":6373472,\"inodes\":6553600,\"inodesUsed\":9,\"name\":\"",
                      v == 0 ? "kube-api-access-abcde" : "data", "\"}");
    }
    o += "],";
    AppendFs(&o, "ephemeral-storage", static_cast<uint64_t>(p));
    absl::StrAppend(&o, ",\"process_stats\":{\"process_count\":", 3 + p % 5, "}}");
  }
  o += "]}";
  return o;
}

std::vector<ProcessRecord> GenerateProcesses(int n) {
  std::vector<ProcessRecord> out;
  out.reserve(static_cast<size_t>(n));
  std::mt19937_64 rng(42);
  for (int i = 0; i < n; ++i) {
    ProcessRecord r;
    r.pid = 1000 + i;
    r.ppid = i % 10 == 0 ? 1 : 1000 + (i / 10) * 10;
    r.name = std::string(kNames[i % std::size(kNames)]);
    r.cmdline = std::string(kCommands[i % std::size(kCommands)]);
    r.uid = i % 4 == 0 ? 0 : 1000;
    r.state = i % 17 == 0 ? ProcessState::kRunning : ProcessState::kSleeping;
    r.vms_bytes = 100'000'000 + rng() % 2'000'000'000;
    r.rss_bytes = 1'000'000 + rng() % 500'000'000;
    r.threads = 1 + static_cast<uint32_t>(rng() % 64);
    r.fds = static_cast<uint32_t>(rng() % 300);
    r.read_bytes = rng() % 10'000'000'000ULL;
    r.write_bytes = rng() % 10'000'000'000ULL;
    r.start_ticks = 1000 + static_cast<uint64_t>(i) * 7;
    r.start_time_unix = 1'795'000'000 + i;
    r.cpu_seconds = static_cast<double>(rng() % 100000) / 100.0;
    r.cpu.pct_5s = static_cast<double>(rng() % 10000) / 100.0;
    r.cpu.pct_2m = static_cast<double>(rng() % 10000) / 100.0;
    r.cpu.pct_1h = static_cast<double>(rng() % 10000) / 100.0;
    if (i % 3 == 0) {
      const int pod = (i / 3) % 110;
      const int c = (i / 3) % 3;
      r.container.container_id = ContainerId(pod, c);
      r.container.pod_uid = PodUid(pod);
      r.container.pod_namespace = absl::StrCat("team-", pod % 7);
      r.container.pod_name = absl::StrCat("app-", pod, "-7d9f8c6b5-x2x4q");
      r.container.container_name = absl::StrCat("container-", c);
      r.container.image = "registry.example.com/app:1.2.3";
    }
    out.push_back(std::move(r));
  }
  return out;
}

Summary GenerateSummary(int pods, int containers) {
  Summary s;
  s.node.node_name = "worker-1";
  for (int p = 0; p < pods; ++p) {
    PodStats pod;
    pod.uid = PodUid(p);
    pod.pod_namespace = absl::StrCat("team-", p % 7);
    pod.name = absl::StrCat("app-", p, "-7d9f8c6b5-x2x4q");
    pod.cpu.usage_nano_cores = 1234567 + p;
    pod.memory.working_set_bytes = 30000000 + p;
    for (int c = 0; c < containers; ++c) {
      ContainerStats cs;
      cs.name = absl::StrCat("container-", c);
      cs.cpu.usage_nano_cores = 1000 + c;
      cs.cpu.usage_core_nano_seconds = 987654321000 + c;
      cs.memory.working_set_bytes = 30000000 + c;
      cs.memory.rss_bytes = 20000000 + c;
      pod.containers.push_back(std::move(cs));
    }
    InterfaceStats eth0;
    eth0.name = "eth0";
    eth0.rx_bytes = 123456789;
    eth0.tx_bytes = 98765432;
    pod.interfaces.push_back(eth0);
    s.pods.push_back(std::move(pod));
  }
  return s;
}

}  // namespace nodeproc::bench

#include "collectors/bpf/bpf_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "collectors/bpf/nodeproc.skel.h"
#include "collectors/proc_parsers.h"
#include "collectors/task_convert.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "core/read_file.h"

namespace nodeproc {
namespace {

constexpr uint32_t kPfWqWorker = 0x00000020;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;
constexpr int kCapSysAdmin = 21;

int QuietLibbpf(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG || GetLogLevel() != LogLevel::kDebug) return 0;
  char line[512];
  ::vsnprintf(line, sizeof line, format, args);
  std::string_view text(line);
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  LogDebug("libbpf", {{"message", text}});
  return 0;
}

bool HasEffectiveCap(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

// "" when the capabilities suffice, else what is missing.
std::string MissingCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return "capabilities unreadable";
  if (HasEffectiveCap(data, kCapSysAdmin)) return "";
  std::string missing;
  if (!HasEffectiveCap(data, kCapBpf)) missing = "CAP_BPF";
  if (!HasEffectiveCap(data, kCapPerfmon)) {
    absl::StrAppend(&missing, missing.empty() ? "" : " and ", "CAP_PERFMON");
  }
  return missing;
}

constexpr size_t kMaxStatBytes = 8 * 1024;  // as the procfs probe

bool IsVanished(int err) { return err == ENOENT || err == ESRCH; }

int32_t TgidOf(const np_task& t) { return static_cast<int32_t>(t.tgid); }
int32_t TgidOf(int32_t pid) { return pid; }

std::string_view Comm(const char (&comm)[NP_COMM_LEN]) {
  return std::string_view(comm, ::strnlen(comm, NP_COMM_LEN));
}

double BootToUnixSeconds() {
  timespec real{}, boot{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  ::clock_gettime(CLOCK_BOOTTIME, &boot);
  return static_cast<double>(real.tv_sec - boot.tv_sec) +
         static_cast<double>(real.tv_nsec - boot.tv_nsec) * 1e-9;
}

}  // namespace

struct BpfProbe::Pass {
  std::vector<char> bytes;
  np_header header{};
  std::vector<np_task> tasks;  // sorted by tgid
  std::vector<int32_t> pids;   // what Scan() reports: <proc_root> listing or the pass + hidden, sorted
};

int OnExitRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<BpfProbe*>(ctx);
  if (size < sizeof(np_exit)) return 0;
  np_exit x;
  std::memcpy(&x, data, sizeof x);
  if (x.kind != NP_REC_EXIT || self->drain_out_ == nullptr) return 0;
  ExitRecord& e = self->drain_out_->emplace_back();
  e.pid = static_cast<int32_t>(x.tgid);
  e.ppid = static_cast<int32_t>(x.ppid);
  e.start_ticks = StartTicks(x.start_boottime_ns, self->clk_tck_);
  e.name.assign(Comm(x.comm));
  e.uid = x.uid;
  e.cgroup_id = x.cgroup_id;
  if (x.cgroup_id != 0) {
    const uint32_t levels = std::min<uint32_t>(x.cgroup_levels, NP_CGROUP_LEVELS);
    for (uint32_t i = levels; i-- > 0;) {
      const char* name = x.cgroup_names[i];
      e.cgroup_path.append("/").append(name, ::strnlen(name, NP_CGROUP_NAME_LEN));
    }
    if (e.cgroup_path.empty()) e.cgroup_path = "/";
  }
  e.cpu_seconds = ExactCpuSeconds(x.sum);
  e.read_bytes = x.sum.read_bytes;
  e.write_bytes = x.sum.write_bytes;
  e.exit_time_unix = static_cast<double>(x.exit_boot_ns) * 1e-9;  // + boot offset in DrainExits
  return 0;
}

absl::StatusOr<std::unique_ptr<BpfProbe>> BpfProbe::Create(std::string proc_root,
                                                           BpfProbeOptions options) {
  libbpf_set_print(QuietLibbpf);
  if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    return absl::FailedPreconditionError(
        "no kernel BTF (/sys/kernel/btf/vmlinux): the kernel lacks CONFIG_DEBUG_INFO_BTF");
  }
  if (std::string missing = MissingCapabilities(); !missing.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("missing ", missing, " (needed to load the BPF programs)"));
  }
  nodeproc_bpf* skel = nodeproc_bpf__open();
  if (skel == nullptr) {
    return absl::InternalError(absl::StrCat("opening the BPF object failed: ", ::strerror(errno)));
  }
  const int cpus = libbpf_num_possible_cpus();
  skel->rodata->nr_cpus = cpus > 0 ? static_cast<uint32_t>(cpus) : 1;
  size_t ring = 4096;
  while (ring < options.exit_ring_bytes) ring <<= 1;  // a power of two, page multiple
  bpf_map__set_max_entries(skel->maps.exits, static_cast<uint32_t>(ring));
  if (int err = nodeproc_bpf__load(skel); err != 0) {
    nodeproc_bpf__destroy(skel);
    return absl::FailedPreconditionError(
        absl::StrCat("loading the BPF programs failed: ", ::strerror(-err)));
  }
  if (int err = nodeproc_bpf__attach(skel); err != 0) {
    nodeproc_bpf__destroy(skel);
    return absl::FailedPreconditionError(
        absl::StrCat("attaching the BPF programs failed: ", ::strerror(-err)));
  }
  std::unique_ptr<BpfProbe> probe(new BpfProbe(std::move(proc_root), skel, options.max_cmdline_bytes));
  probe->exits_ = ring_buffer__new(bpf_map__fd(skel->maps.exits), OnExitRecord, probe.get(), nullptr);
  if (probe->exits_ == nullptr) {
    return absl::InternalError(absl::StrCat("exit ring buffer: ", ::strerror(errno)));
  }

  // The pass reports global pids: <proc_root> must be the kernel's initial pid namespace
  // (the host's /proc, e.g. /host/proc in the DaemonSet), else pids would not match.
  Pass pass;
  if (absl::Status s = probe->RunPass(&pass); !s.ok()) return s;
  // The task iterator walks the PID namespace of the process that reads it, not the host's:
  // in a namespace of its own (a pod without hostPID) it would see only its own processes.
  if (pass.header.reader_pid_level != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this agent runs in a PID namespace of its own (nesting level ", pass.header.reader_pid_level,
        "): the BPF task iterator would see only its processes; run it in the host PID namespace "
        "(Kubernetes: hostPID, which the chart sets with bpf.enabled)"));
  }
  char link[64] = {};
  const std::string self = probe->proc_root_ + "/self";
  const ssize_t n = ::readlink(self.c_str(), link, sizeof link - 1);
  if (n <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", self, " to check its pid namespace: ", ::strerror(errno)));
  }
  if (std::string_view(link, static_cast<size_t>(n)) != absl::StrCat(pass.header.reader_tgid)) {
    return absl::FailedPreconditionError(absl::StrCat(
        probe->proc_root_, " is not the host pid namespace (the kernel sees this agent as pid ",
        pass.header.reader_tgid, ", ", self, " says ", ToAbsl(std::string_view(link, static_cast<size_t>(n))),
        ")"));
  }
  return probe;
}

BpfProbe::BpfProbe(std::string proc_root, nodeproc_bpf* skel, size_t max_cmdline_bytes)
    : proc_root_(std::move(proc_root)),
      max_cmdline_bytes_(max_cmdline_bytes),
      clk_tck_(std::max(1L, ::sysconf(_SC_CLK_TCK))),
      page_size_(std::max(1L, ::sysconf(_SC_PAGESIZE))),
      skel_(skel),
      procfs_(proc_root_, max_cmdline_bytes),
      scan_pass_(std::make_unique<Pass>()),
      sample_pass_(std::make_unique<Pass>()) {}

BpfProbe::~BpfProbe() {
  if (exits_ != nullptr) ring_buffer__free(exits_);
  nodeproc_bpf__destroy(skel_);
}

absl::Status BpfProbe::RunPass(Pass* pass) {
  const int fd = bpf_iter_create(bpf_link__fd(skel_->links.dump_task));
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("bpf_iter_create: ", ::strerror(errno)));
  }
  size_t size = 0;
  if (pass->bytes.size() < (64u << 10)) pass->bytes.resize(64u << 10);
  for (;;) {
    if (pass->bytes.size() - size < (16u << 10)) pass->bytes.resize(pass->bytes.size() * 2);
    const ssize_t n = ::read(fd, pass->bytes.data() + size, pass->bytes.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat("reading the task iterator: ", ::strerror(err)));
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  ::close(fd);

  pass->tasks.clear();
  pass->header = np_header{};
  const char* p = pass->bytes.data();
  const char* end = p + size;
  while (end - p >= static_cast<ptrdiff_t>(sizeof(uint32_t))) {
    uint32_t kind;
    std::memcpy(&kind, p, sizeof kind);
    if (kind == NP_REC_HEADER && end - p >= static_cast<ptrdiff_t>(sizeof(np_header))) {
      std::memcpy(&pass->header, p, sizeof(np_header));
      p += sizeof(np_header);
    } else if (kind == NP_REC_TASK && end - p >= static_cast<ptrdiff_t>(sizeof(np_task))) {
      std::memcpy(&pass->tasks.emplace_back(), p, sizeof(np_task));
      p += sizeof(np_task);
    } else {
      return absl::InternalError("task iterator: malformed record");
    }
  }
  if (pass->header.kind != NP_REC_HEADER) return absl::InternalError("task iterator: no header");
  // The iterator walks pids in order; sort anyway (cheap when sorted) so the merge can rely on it.
  if (!std::is_sorted(pass->tasks.begin(), pass->tasks.end(),
                      [](const np_task& a, const np_task& b) { return a.tgid < b.tgid; })) {
    std::sort(pass->tasks.begin(), pass->tasks.end(),
              [](const np_task& a, const np_task& b) { return a.tgid < b.tgid; });
  }
  return absl::OkStatus();
}

void BpfProbe::ToRecord(const np_task& t, double btime, ProcessRecord* r) const {
  const bool kthread = (t.task_flags & kPfKthread) != 0;
  const auto page = static_cast<uint64_t>(page_size_);
  r->pid = static_cast<int32_t>(t.tgid);
  r->ppid = static_cast<int32_t>(t.ppid);
  r->name.assign(Comm(t.comm));
  r->uid = t.uid;
  r->uid_known = true;
  r->state = ProcessStateFromLetter(StateLetter(t.state, t.exit_state));
  r->kernel_thread = kthread;
  r->vms_bytes = t.total_vm_pages * page;
  r->rss_bytes = t.rss_pages * page;
  r->threads = t.nr_threads;
  r->start_ticks = StartTicks(t.start_boottime_ns, clk_tck_);
  r->start_time_unix = btime + static_cast<double>(r->start_ticks) / static_cast<double>(clk_tck_);
  r->cpu_seconds =
      static_cast<double>(ProcCpuTicks(t.sum, clk_tck_)) / static_cast<double>(clk_tck_);
  r->cpu = CpuUsage{};
  if (!r->container.empty()) r->container = ContainerRef{};
  // Kernel threads have no fd table; their I/O is reported as the procfs probe reads it from
  // /proc/<kthread>/io.
  r->fds = kthread ? 0 : t.fds;
  r->read_bytes = t.sum.read_bytes;
  r->write_bytes = t.sum.write_bytes;
}

bool BpfProbe::FillFromProc(const np_task& t, ProcessRecord* r) {
  const bool kthread = (t.task_flags & kPfKthread) != 0;
  auto path = [&](const char* file) { return absl::StrCat(proc_root_, "/", t.tgid, "/", file); };
  if (kthread) {
    r->cmdline.clear();
    // /proc shows longer names than the 15-byte comm for kernel threads created with one and
    // for workqueue workers ("kworker/0:1-events": the workqueue of the last work they ran).
    // Read once per (pid, start time): a worker keeps the name it had when first seen, which
    // also keeps its metric series stable while /proc's suffix follows the work.
    const bool worker = (t.task_flags & kPfWqWorker) != 0;
    if (!worker && ::strnlen(t.comm, NP_COMM_LEN) < NP_COMM_LEN - 1) return true;
    CachedText& c = text_cache_[r->pid];
    if (c.generation != 0 && c.start_boottime_ns == t.start_boottime_ns) {
      if (!c.name.empty()) r->name = c.name;
      c.generation = generation_;
      return true;
    }
    const int err = ReadFileAt(AT_FDCWD, path("stat").c_str(), kMaxStatBytes, OverLimit::kFail,
                               &read_buf_);
    if (err != 0) return !IsVanished(err);
    absl::StatusOr<ProcStat> st = ParseProcStat(read_buf_);
    if (!st.ok()) return true;
    r->name.assign(st->comm.data(), st->comm.size());
    c = CachedText{t.start_boottime_ns, t.exec_id, "", r->name, generation_};
    return true;
  }
  if ((t.flags & NP_HAS_MM) == 0) {
    r->cmdline.clear();  // a zombie (or exiting) process: /proc shows no command line
    return true;
  }
  CachedText& c = text_cache_[r->pid];
  if (c.generation == 0 || c.start_boottime_ns != t.start_boottime_ns || c.exec_id != t.exec_id) {
    // Bounded like the procfs probe's (--max-cmdline-bytes), NUL-separated for the scrubbing.
    bool truncated = false;
    const int err = ReadFileAt(AT_FDCWD, path("cmdline").c_str(), max_cmdline_bytes_,
                               OverLimit::kTruncate, &read_buf_, &truncated);
    if (err != 0) {
      if (IsVanished(err)) return false;
      r->cmdline.clear();  // not cached: read again next scan
      r->args.clear();
      c.generation = 0;
      return true;
    }
    std::string args;
    ArgsFromRawCmdline(read_buf_, truncated, &args);
    args.shrink_to_fit();
    c = CachedText{t.start_boottime_ns, t.exec_id, std::move(args), "", generation_};
  }
  c.generation = generation_;
  r->args = c.args;
  r->cmdline = c.args;
  std::replace(r->cmdline.begin(), r->cmdline.end(), '\0', ' ');
  return true;
}

int64_t BpfProbe::ProcLinks() const {
  struct stat st {};
  return ::stat(proc_root_.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_nlink) : -1;
}

absl::Status BpfProbe::Scan(std::vector<ProcessRecord>* out) {
  absl::StatusOr<double> btime = procfs_.BootTimeUnix();
  if (!btime.ok()) return btime.status();
  absl::MutexLock lock(&scan_mu_);
  Pass* pass = scan_pass_.get();
  const int64_t links_before = ProcLinks();
  if (absl::Status s = RunPass(pass); !s.ok()) return s;
  const int64_t links_after = ProcLinks();
  if (++generation_ == 0) generation_ = 1;

  // The pids to report: <proc_root>'s listing, or, when the process count says the pass saw
  // everything (collectors/proc_listing.h), the pass's own plus the hidden ones still there.
  auto in_pass = [pass](int32_t pid) {
    return std::binary_search(pass->tasks.begin(), pass->tasks.end(), pid,
                              [](const auto& a, const auto& b) { return TgidOf(a) < TgidOf(b); });
  };
  // Hidden from BPF: what the last scan had to read from /proc.
  const std::vector<int32_t> hidden_pids = last_scan_from_procfs();
  size_t hidden = 0;
  for (const int32_t pid : hidden_pids) hidden += in_pass(pid) ? 0 : 1;
  pass->pids.clear();
  if (listing_.MustList(links_before, links_after, pass->tasks.size() + hidden)) {
    if (absl::Status s = procfs_.ListPidsInto(&pass->pids); !s.ok()) return s;
    listing_.Listed(links_after, ProcLinks(), pass->pids.size());
  } else {
    for (const np_task& t : pass->tasks) pass->pids.push_back(static_cast<int32_t>(t.tgid));
    const auto from_pass = static_cast<ptrdiff_t>(pass->pids.size());  // sorted already
    for (const int32_t pid : hidden_pids) {
      if (!in_pass(pid)) pass->pids.push_back(pid);
    }
    std::inplace_merge(pass->pids.begin(), pass->pids.begin() + from_pass, pass->pids.end());
  }

  size_t n = 0;
  std::vector<int32_t> from_procfs;
  auto task = pass->tasks.begin();
  for (const int32_t pid : pass->pids) {
    while (task != pass->tasks.end() && static_cast<int32_t>(task->tgid) < pid) ++task;
    if (n == out->size()) out->emplace_back();
    ProcessRecord* r = &(*out)[n];
    if (task != pass->tasks.end() && static_cast<int32_t>(task->tgid) == pid) {
      ToRecord(*task, *btime, r);
      if (FillFromProc(*task, r)) ++n;
    } else if (procfs_.ReadOne(pid, r)) {  // started after the pass, or hidden from BPF
      ++n;
      from_procfs.push_back(pid);
    }
  }
  out->resize(n);
  absl::erase_if(text_cache_, [this](const auto& kv) { return kv.second.generation != generation_; });
  absl::MutexLock from_procfs_lock(&from_procfs_mu_);
  last_scan_from_procfs_ = std::move(from_procfs);
  return absl::OkStatus();
}

uint64_t BpfProbe::proc_listings() const {
  absl::MutexLock lock(&scan_mu_);
  return listing_.listings();
}

uint64_t BpfProbe::proc_listings_skipped() const {
  absl::MutexLock lock(&scan_mu_);
  return listing_.skipped();
}

std::vector<int32_t> BpfProbe::last_scan_from_procfs() const {
  absl::MutexLock lock(&from_procfs_mu_);
  return last_scan_from_procfs_;
}

absl::Status BpfProbe::SampleCpu(std::vector<CpuSample>* out) {
  absl::StatusOr<double> btime = procfs_.BootTimeUnix();
  if (!btime.ok()) return btime.status();
  absl::MutexLock lock(&sample_mu_);
  Pass* pass = sample_pass_.get();
  // No /proc listing here (it would cost as much as the pass): every process of the pass, plus
  // those the last full scan had to read from /proc because the pass does not see them.
  if (absl::Status s = RunPass(pass); !s.ok()) return s;
  out->clear();
  for (const np_task& t : pass->tasks) {
    CpuSample& s = out->emplace_back();
    s.pid = static_cast<int32_t>(t.tgid);
    s.start_ticks = StartTicks(t.start_boottime_ns, clk_tck_);
    s.start_time_unix = *btime + static_cast<double>(s.start_ticks) / static_cast<double>(clk_tck_);
    s.cpu_seconds = static_cast<double>(ProcCpuTicks(t.sum, clk_tck_)) / static_cast<double>(clk_tck_);
  }
  const size_t from_pass = out->size();
  CpuSample sample;
  for (const int32_t pid : last_scan_from_procfs()) {
    const auto end = out->begin() + static_cast<ptrdiff_t>(from_pass);
    const auto it = std::lower_bound(out->begin(), end, pid,
                                     [](const CpuSample& a, int32_t p) { return a.pid < p; });
    const bool seen = it != end && it->pid == pid;
    if (!seen && procfs_.SampleOne(pid, &sample)) out->push_back(sample);
  }
  std::sort(out->begin(), out->end(), [](const CpuSample& a, const CpuSample& b) { return a.pid < b.pid; });
  return absl::OkStatus();
}

void BpfProbe::DrainExits(std::vector<ExitRecord>* out) {
  out->clear();
  absl::MutexLock lock(&exits_mu_);
  drain_out_ = out;
  ring_buffer__consume(exits_);
  drain_out_ = nullptr;
  const double offset = BootToUnixSeconds();
  for (ExitRecord& e : *out) e.exit_time_unix += offset;
}

uint64_t BpfProbe::ExitRecordsDropped() const {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return 0;
  std::vector<uint64_t> values(static_cast<size_t>(cpus));
  uint32_t key = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.exit_drops), &key, values.data()) != 0) return 0;
  uint64_t total = 0;
  for (uint64_t v : values) total += v;
  return total;
}

}  // namespace nodeproc

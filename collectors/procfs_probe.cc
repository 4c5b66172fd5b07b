#include "collectors/procfs_probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "collectors/proc_parsers.h"
#include "core/absl_compat.h"
#include "core/log.h"
#include "core/read_file.h"

namespace nodeproc {
namespace {

// Bits of ProcfsProbe::seen_causes_ / failing_causes_: one per (file, kind of problem).
enum Cause : int {
  kIoDenied = 0,
  kIoMissing,
  kIoUnparsable,
  kFdDenied,
  kFdMissing,
  kStatUnreadable,
  kStatUnparsable,
  kStatusUnreadable,
  kStatusUnparsable,
  kCmdlineUnreadable,
};

bool IsVanished(int err) { return err == ENOENT || err == ESRCH; }

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Caps of the per-PID files (core/read_file.h never reads more). stat is < 1 KiB (comm is at
// most 64 bytes); status and io are cut, not failed, past their cap: what is parsed comes first.
constexpr size_t kMaxStatBytes = 8 * 1024;
constexpr size_t kMaxStatusBytes = 64 * 1024;
constexpr size_t kMaxIoBytes = 4 * 1024;

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Calls fn(name) for every entry of the open directory fd but "." and "..", through
// getdents64 into *buf (no DIR*, no allocation). Returns 0 or an errno value.
template <typename Fn>
int ForEachDirEntry(int fd, std::vector<char>* buf, Fn fn) {
  if (buf->size() < 32 * 1024) buf->resize(32 * 1024);
  for (;;) {
    const long n = ::syscall(SYS_getdents64, fd, buf->data(), buf->size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const LinuxDirent64*>(buf->data() + off);
      off += d->d_reclen;
      const char* name = d->d_name;
      if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
      fn(name);
    }
  }
}

// "1234" -> 1234; anything else (self, thread-self, sys, ...) -> -1.
int32_t PidFromName(const char* name) {
  int64_t v = 0;
  if (*name == '\0') return -1;
  for (const char* p = name; *p; ++p) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
    if (v > INT32_MAX) return -1;
  }
  return v > 0 ? static_cast<int32_t>(v) : -1;
}

const char* ErrnoName(int err) {
  switch (err) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case 0: return "none";
    default: return ::strerror(err);
  }
}

}  // namespace

struct ProcfsProbe::Buffers {
  std::vector<int32_t> pids;
  std::vector<char> dirents;
  std::string stat, status, cmdline, io;
};

ProcfsProbe::ProcfsProbe(std::string proc_root, size_t max_cmdline_bytes)
    : proc_root_(std::move(proc_root)),
      max_cmdline_bytes_(max_cmdline_bytes),
      clk_tck_(std::max(1L, ::sysconf(_SC_CLK_TCK))),
      page_size_(std::max(1L, ::sysconf(_SC_PAGESIZE))),
      scan_buffers_(std::make_unique<Buffers>()),
      sample_buffers_(std::make_unique<Buffers>()) {}

ProcfsProbe::~ProcfsProbe() {
  absl::MutexLock lock(&root_mu_);
  if (root_fd_ >= 0) ::close(root_fd_);
}

absl::StatusOr<int> ProcfsProbe::RootFd() {
  absl::MutexLock lock(&root_mu_);
  if (root_fd_ >= 0) return root_fd_;
  const int fd = ::open(proc_root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open proc root ", proc_root_, ": ", ::strerror(err)));
  }
  root_fd_ = fd;
  return root_fd_;
}

absl::StatusOr<double> ProcfsProbe::BootTime(int root_fd) {
  absl::MutexLock lock(&root_mu_);
  if (btime_) return *btime_;
  std::string buf;
  // /proc/stat grows with the CPU count (a line per CPU): 1 MiB is thousands of CPUs.
  if (const int err = ReadFileAt(root_fd, "stat", size_t{1} << 20, OverLimit::kTruncate, &buf);
      err != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", proc_root_, "/stat: ", ::strerror(err)));
  }
  absl::StatusOr<uint64_t> btime = ParseBootTime(buf);
  if (!btime.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(proc_root_, "/stat: ", btime.status().message()));
  }
  btime_ = static_cast<double>(*btime);
  timespec real{}, boot{};
  if (::clock_gettime(CLOCK_REALTIME, &real) == 0 && ::clock_gettime(CLOCK_BOOTTIME, &boot) == 0) {
    const double precise = static_cast<double>(real.tv_sec - boot.tv_sec) +
                           static_cast<double>(real.tv_nsec - boot.tv_nsec) * 1e-9;
    if (precise >= *btime_ - 0.5 && precise < *btime_ + 1.5) btime_ = precise;
  }
  return *btime_;
}

absl::Status ProcfsProbe::ListPids(int root_fd, Buffers* b) {
  b->pids.clear();
  // A fresh open file description per listing: the root fd itself is shared by both passes.
  const int fd = ::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return absl::FailedPreconditionError(
        absl::StrCat("cannot list ", proc_root_, ": ", ::strerror(err)));
  }
  Fd closer(fd);
  const int err = ForEachDirEntry(fd, &b->dirents, [b](const char* name) {
    const int32_t pid = PidFromName(name);
    if (pid > 0) b->pids.push_back(pid);
  });
  if (err != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot list ", proc_root_, ": ", ::strerror(err)));
  }
  std::sort(b->pids.begin(), b->pids.end());
  return absl::OkStatus();
}

void ProcfsProbe::NoteProblem(int cause_bit, const char* file, int err, int32_t pid) {
  const uint32_t bit = 1u << cause_bit;
  seen_causes_.fetch_or(bit, std::memory_order_relaxed);
  failing_causes_.fetch_or(bit, std::memory_order_relaxed);
  const bool optional = cause_bit <= kFdMissing;
  LogLimited(LogLevel::kWarning, absl::StrCat("procfs:", proc_root_, ":", file),
             absl::StrCat(cause_bit, ":", ErrnoName(err)),
             optional ? "Cannot read a per-process file; such values are reported as unknown "
                        "(rate-limited per cause)"
                      : "Cannot read or parse a per-process file; such processes are skipped "
                        "(rate-limited per cause)",
             {{"file", file}, {"errno", ErrnoName(err)}, {"example_pid", pid},
              {"proc_root", proc_root_}});
}

void ProcfsProbe::NoteRecoveries() {
  // Causes that failed before but not during this scan: their file reads again.
  const uint32_t seen = seen_causes_.exchange(0, std::memory_order_relaxed);
  const uint32_t failing = failing_causes_.load(std::memory_order_relaxed);
  const uint32_t recovered = failing & ~seen;
  if (recovered == 0) return;
  failing_causes_.fetch_and(~recovered, std::memory_order_relaxed);
  struct FileCauses {
    const char* file;
    uint32_t bits;
  };
  for (const FileCauses& f : {FileCauses{"io", (1u << kIoDenied) | (1u << kIoMissing) | (1u << kIoUnparsable)},
                              FileCauses{"fd", (1u << kFdDenied) | (1u << kFdMissing)},
                              FileCauses{"stat", (1u << kStatUnreadable) | (1u << kStatUnparsable)},
                              FileCauses{"status", (1u << kStatusUnreadable) | (1u << kStatusUnparsable)},
                              FileCauses{"cmdline", 1u << kCmdlineUnreadable}}) {
    if ((recovered & f.bits) != 0 && (failing & ~recovered & f.bits) == 0) {
      LogRecovered(absl::StrCat("procfs:", proc_root_, ":", f.file),
                   "A per-process file reads again for every process",
                   {{"file", f.file}, {"proc_root", proc_root_}});
    }
  }
}

bool ProcfsProbe::ReadProcess(int root_fd, int32_t pid, double btime, Buffers* b,
                              ProcessRecord* r) {
  char name[16];
  ::snprintf(name, sizeof name, "%d", pid);
  const int dir = ::openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;  // gone (or not a folder)
  Fd dir_closer(dir);

  // Required: stat.
  if (const int err = ReadFileAt(dir, "stat", kMaxStatBytes, OverLimit::kFail, &b->stat); err != 0) {
    if (!IsVanished(err)) NoteProblem(kStatUnreadable, "stat", err, pid);
    return false;
  }
  absl::StatusOr<ProcStat> st = ParseProcStat(b->stat);
  if (!st.ok()) {
    // An exited process may read as empty: not worth a log line.
    if (!b->stat.empty()) NoteProblem(kStatUnparsable, "stat", 0, pid);
    return false;
  }
  // Required: status (real uid).
  if (const int err = ReadFileAt(dir, "status", kMaxStatusBytes, OverLimit::kTruncate, &b->status);
      err != 0) {
    if (!IsVanished(err)) NoteProblem(kStatusUnreadable, "status", err, pid);
    return false;
  }
  absl::StatusOr<ProcStatus> status = ParseProcStatus(b->status);
  if (!status.ok()) {
    if (!b->status.empty()) NoteProblem(kStatusUnparsable, "status", 0, pid);
    return false;
  }

  const bool kthread = st->kernel_thread();
  r->pid = pid;
  r->ppid = st->ppid;
  r->name.assign(st->comm.data(), st->comm.size());
  r->uid = status->real_uid;
  r->state = ProcessStateFromLetter(st->state);
  r->kernel_thread = kthread;
  r->vms_bytes = st->vsize_bytes;
  // RSS as statm / VmRSS report it (what ps and psutil show): stat field 24 is the kernel's
  // approximation (proc(5)) and reads up to ~15% low. status is read anyway; no VmRSS (kernel
  // threads, zombies: no mm) is 0, as statm says.
  r->rss_bytes = status->vm_rss_bytes.value_or(0);
  r->threads = st->num_threads;
  r->start_ticks = st->start_ticks;
  r->start_time_unix = btime + static_cast<double>(st->start_ticks) / static_cast<double>(clk_tck_);
  r->cpu_seconds = static_cast<double>(st->utime_ticks + st->stime_ticks) /
                   static_cast<double>(clk_tck_);
  r->cpu = CpuUsage{};
  if (!r->container.empty()) r->container = ContainerRef{};

  if (kthread) {
    // Kernel threads have no command line and no file table. Their io is read where readable
    // (kworkers, jbd2 and the like do I/O); when it is not, the value is unknown, silently:
    // hiding that is not a permission problem worth a log line.
    r->cmdline.clear();
    r->args.clear();
    r->fds = 0;
    r->read_bytes.reset();
    r->write_bytes.reset();
    if (ReadFileAt(dir, "io", kMaxIoBytes, OverLimit::kTruncate, &b->io) == 0) {
      if (absl::StatusOr<ProcIo> io = ParseProcIo(b->io); io.ok()) {
        r->read_bytes = io->read_bytes;
        r->write_bytes = io->write_bytes;
      }
    }
    return true;
  }

  // Required: cmdline (empty for zombies, which is fine). Read once per (pid, start time,
  // comm): reading it takes the target's mmap lock, so a stuck process can only hang the read
  // of a new process, and an exec (new comm) is seen. Bounded by max_cmdline_bytes_.
  CmdlineEntry& cached = cmdlines_[pid];
  if (cached.scan == 0 || cached.start_ticks != st->start_ticks || cached.comm != st->comm) {
    bool truncated = false;
    if (const int err = ReadFileAt(dir, "cmdline", max_cmdline_bytes_, OverLimit::kTruncate,
                                   &b->cmdline, &truncated);
        err != 0) {
      cmdlines_.erase(pid);
      if (!IsVanished(err)) NoteProblem(kCmdlineUnreadable, "cmdline", err, pid);
      return false;
    }
    // Kept NUL-separated: the privacy step scrubs the argument vector before the join.
    ArgsFromRawCmdline(b->cmdline, truncated, &cached.args);
    cached.args.shrink_to_fit();
    cached.start_ticks = st->start_ticks;
    cached.comm.assign(st->comm.data(), st->comm.size());
  }
  cached.scan = scan_number_;
  r->args = cached.args;
  r->cmdline = cached.args;
  std::replace(r->cmdline.begin(), r->cmdline.end(), '\0', ' ');

  // Optional: io and fd. A failure there is either the process exiting (then drop it whole,
  // silently) or a real limit such as permission denied or a kernel without task io
  // accounting (then the value is unknown, and the cause is logged once).
  struct Problem {
    int cause;
    const char* file;
    int err;
  };
  Problem problems[2];
  int num_problems = 0;
  bool check_vanished = false;
  r->read_bytes.reset();
  r->write_bytes.reset();
  if (const int err = ReadFileAt(dir, "io", kMaxIoBytes, OverLimit::kTruncate, &b->io); err != 0) {
    check_vanished |= IsVanished(err);
    problems[num_problems++] = {IsVanished(err) ? kIoMissing : kIoDenied, "io", err};
  } else if (absl::StatusOr<ProcIo> io = ParseProcIo(b->io); io.ok()) {
    r->read_bytes = io->read_bytes;
    r->write_bytes = io->write_bytes;
  } else {
    check_vanished = true;  // an exiting process may read as empty
    problems[num_problems++] = {kIoUnparsable, "io", 0};
  }

  r->fds.reset();
  const int fd_dir = ::openat(dir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fd_err = fd_dir < 0 ? errno : 0;
  if (fd_dir >= 0) {
    Fd fd_closer(fd_dir);
    uint32_t count = 0;
    fd_err = ForEachDirEntry(fd_dir, &b->dirents, [&count](const char*) { ++count; });
    if (fd_err == 0) r->fds = count;
  }
  if (fd_err != 0) {
    check_vanished |= IsVanished(fd_err);
    problems[num_problems++] = {IsVanished(fd_err) ? kFdMissing : kFdDenied, "fd", fd_err};
  }

  if (check_vanished && ::faccessat(dir, "stat", F_OK, 0) != 0 && IsVanished(errno)) {
    return false;
  }
  for (int i = 0; i < num_problems; ++i) {
    NoteProblem(problems[i].cause, problems[i].file, problems[i].err, pid);
  }
  return true;
}

absl::Status ProcfsProbe::Scan(std::vector<ProcessRecord>* out) {
  absl::StatusOr<int> root_fd = RootFd();
  if (!root_fd.ok()) return root_fd.status();
  absl::StatusOr<double> btime = BootTime(*root_fd);
  if (!btime.ok()) return btime.status();

  absl::MutexLock lock(&scan_mu_);
  Buffers* b = scan_buffers_.get();
  if (absl::Status s = ListPids(*root_fd, b); !s.ok()) return s;

  if (++scan_number_ == 0) scan_number_ = 1;  // 0 marks a fresh cache entry
  // One allocation for all the rows: growing by doubling would hold 1.5x the records while
  // moving them (tens of MB at 100k PIDs).
  out->reserve(b->pids.size());
  size_t n = 0;
  for (const int32_t pid : b->pids) {
    if (n == out->size()) out->emplace_back();
    if (ReadProcess(*root_fd, pid, *btime, b, &(*out)[n])) ++n;
  }
  out->resize(n);
  NoteRecoveries();
  // Bounded by the live processes: entries of PIDs not read in this scan go.
  absl::erase_if(cmdlines_, [this](const auto& kv) { return kv.second.scan != scan_number_; });
  return absl::OkStatus();
}

absl::Status ProcfsProbe::SampleCpu(std::vector<CpuSample>* out) {
  absl::StatusOr<int> root_fd = RootFd();
  if (!root_fd.ok()) return root_fd.status();
  absl::StatusOr<double> btime = BootTime(*root_fd);
  if (!btime.ok()) return btime.status();

  absl::MutexLock lock(&sample_mu_);
  Buffers* b = sample_buffers_.get();
  if (absl::Status s = ListPids(*root_fd, b); !s.ok()) return s;

  out->clear();
  CpuSample sample;
  for (const int32_t pid : b->pids) {
    if (SampleStat(*root_fd, pid, *btime, b, &sample)) out->push_back(sample);
  }
  return absl::OkStatus();
}

bool ProcfsProbe::SampleStat(int root_fd, int32_t pid, double btime, Buffers* b, CpuSample* s) {
  char path[32];
  ::snprintf(path, sizeof path, "%d/stat", pid);
  if (const int err = ReadFileAt(root_fd, path, kMaxStatBytes, OverLimit::kFail, &b->stat); err != 0) {
    if (!IsVanished(err) && err != ENOTDIR) NoteProblem(kStatUnreadable, "stat", err, pid);
    return false;
  }
  absl::StatusOr<ProcStat> st = ParseProcStat(b->stat);
  if (!st.ok()) {
    if (!b->stat.empty()) NoteProblem(kStatUnparsable, "stat", 0, pid);
    return false;
  }
  s->pid = pid;
  s->start_ticks = st->start_ticks;
  s->start_time_unix = btime + static_cast<double>(st->start_ticks) / static_cast<double>(clk_tck_);
  s->cpu_seconds = static_cast<double>(st->utime_ticks + st->stime_ticks) /
                   static_cast<double>(clk_tck_);
  return true;
}

absl::Status ProcfsProbe::ListPidsInto(std::vector<int32_t>* pids) {
  absl::StatusOr<int> root_fd = RootFd();
  if (!root_fd.ok()) return root_fd.status();
  absl::MutexLock lock(&scan_mu_);
  if (absl::Status s = ListPids(*root_fd, scan_buffers_.get()); !s.ok()) return s;
  pids->assign(scan_buffers_->pids.begin(), scan_buffers_->pids.end());
  return absl::OkStatus();
}

bool ProcfsProbe::ReadOne(int32_t pid, ProcessRecord* out) {
  absl::StatusOr<int> root_fd = RootFd();
  if (!root_fd.ok()) return false;
  absl::StatusOr<double> btime = BootTime(*root_fd);
  if (!btime.ok()) return false;
  absl::MutexLock lock(&scan_mu_);
  return ReadProcess(*root_fd, pid, *btime, scan_buffers_.get(), out);
}

bool ProcfsProbe::SampleOne(int32_t pid, CpuSample* out) {
  absl::StatusOr<int> root_fd = RootFd();
  if (!root_fd.ok()) return false;
  absl::StatusOr<double> btime = BootTime(*root_fd);
  if (!btime.ok()) return false;
  absl::MutexLock lock(&sample_mu_);
  return SampleStat(*root_fd, pid, *btime, sample_buffers_.get(), out);
}

absl::StatusOr<double> ProcfsProbe::BootTimeUnix() {
  absl::StatusOr<int> root_fd = RootFd();
  if (!root_fd.ok()) return root_fd.status();
  return BootTime(*root_fd);
}

}  // namespace nodeproc

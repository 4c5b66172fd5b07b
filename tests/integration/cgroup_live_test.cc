// The cgroup mapping checked against the kernel's own /proc/<pid>/cgroup: create kubepods-style
// cgroups (cgroupfs and systemd naming) in a writable v1 hierarchy and in cgroup v2, move a
// forked child into each, and resolve it. Skips with a message where cgroups cannot be created
// (not root, read-only /sys/fs/cgroup, no cgroup mounted).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kube/container_resolver.h"

namespace nodeproc {
namespace {

struct Mount {
  std::string path;
  bool v2 = false;
};

// cgroup mounts from /proc/self/mounts: v1 hierarchies (type cgroup) and v2 (type cgroup2).
std::vector<Mount> CgroupMounts() {
  std::vector<Mount> out;
  std::ifstream in("/proc/self/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string dev, path, type;
    fields >> dev >> path >> type;
    if (type == "cgroup") out.push_back({path, false});
    if (type == "cgroup2") out.push_back({path, true});
  }
  // Prefer the simplest v1 controllers (pids, freezer have no setup of their own).
  std::stable_sort(out.begin(), out.end(), [](const Mount& a, const Mount& b) {
    auto rank = [](const Mount& m) {
      if (m.v2) return 3;
      if (m.path.find("pids") != std::string::npos || m.path.find("freezer") != std::string::npos) return 0;
      if (m.path.find("systemd") != std::string::npos) return 2;
      return 1;
    };
    return rank(a) < rank(b);
  });
  return out;
}

std::string RandomHex(size_t n) {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(digits[gen() % 16]);
  return s;
}

std::string RandomUid() {
  std::string h = RandomHex(32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string Underscored(std::string s) {
  for (char& c : s) {
    if (c == '-') c = '_';
  }
  return s;
}

bool WriteFile(const std::string& path, const std::string& text, std::string* error) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = path + ": " + strerror(errno);
    return false;
  }
  ssize_t n = write(fd, text.data(), text.size());
  int e = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    *error = "write " + path + ": " + strerror(e);
    return false;
  }
  return true;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A child that waits until its pipe closes; killed and reaped on destruction.
class Child {
 public:
  Child() {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[1]);
      char c;
      while (read(fds[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
    close(fds[0]);
    release_fd_ = fds[1];
  }
  ~Child() {
    if (release_fd_ >= 0) close(release_fd_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status;
      waitpid(pid_, &status, 0);
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
};

// Creates nested directories under `root`; removes them (deepest first) on destruction.
class CgroupDirs {
 public:
  CgroupDirs(std::string root, const std::vector<std::string>& components) : root_(std::move(root)) {
    std::string path = root_;
    for (const std::string& c : components) {
      path += "/" + c;
      if (mkdir(path.c_str(), 0755) == 0) {
        created_.push_back(path);  // only what we made is removed: never a real kubepods level
      } else if (errno != EEXIST) {
        error_ = "mkdir " + path + ": " + strerror(errno);
        return;
      }
    }
    leaf_ = path;
  }
  ~CgroupDirs() {
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
      // A reaped child leaves its cgroup at once in v1; v2 may lag a little.
      for (int i = 0; i < 50 && rmdir(it->c_str()) != 0 && errno == EBUSY; ++i) {
        timespec ts{0, 10 * 1000 * 1000};
        nanosleep(&ts, nullptr);
      }
    }
  }
  const std::string& error() const { return error_; }
  const std::string& leaf() const { return leaf_; }

 private:
  std::string root_;
  std::string leaf_;
  std::string error_;
  std::vector<std::string> created_;
};

struct Layout {
  const char* name;
  std::vector<std::string> (*components)(const std::string& uid, const std::string& id);
};

std::vector<std::string> Cgroupfs(const std::string& uid, const std::string& id) {
  return {"kubepods", "burstable", "pod" + uid, id};
}
std::vector<std::string> CgroupfsGuaranteed(const std::string& uid, const std::string& id) {
  return {"kubepods", "pod" + uid, id};
}
std::vector<std::string> Systemd(const std::string& uid, const std::string& id) {
  return {"kubepods.slice", "kubepods-besteffort.slice", "kubepods-besteffort-pod" + Underscored(uid) + ".slice",
          "cri-containerd-" + id + ".scope"};
}

// Runs one layout in the first hierarchy of the wanted version that accepts the child.
void CheckLayout(const Layout& layout, bool v2) {
  if (geteuid() != 0) GTEST_SKIP() << "not root: cannot create cgroups";
  std::vector<Mount> mounts = CgroupMounts();
  std::string why = v2 ? "no cgroup2 mount" : "no cgroup v1 mount";
  for (const Mount& m : mounts) {
    if (m.v2 != v2) continue;
    const std::string uid = RandomUid();
    const std::string id = RandomHex(64);
    CgroupDirs dirs(m.path, layout.components(uid, id));
    if (!dirs.error().empty()) {
      why = dirs.error();
      continue;
    }
    Child child;
    ASSERT_GT(child.pid(), 0) << "fork failed";
    std::string error;
    if (!WriteFile(dirs.leaf() + "/cgroup.procs", std::to_string(child.pid()), &error)) {
      why = error;
      continue;
    }
    std::string raw = ReadFile("/proc/" + std::to_string(child.pid()) + "/cgroup");
    ContainerResolver resolver("/proc");
    ContainerRef ref = resolver.Resolve(child.pid(), 1);
    EXPECT_EQ(ref.container_id, id) << "hierarchy " << m.path << "\n/proc/<pid>/cgroup:\n" << raw;
    EXPECT_EQ(ref.pod_uid, uid) << raw;
    // Our own process, outside kubepods, maps to no pod of ours.
    EXPECT_NE(resolver.Resolve(getpid(), 1).pod_uid, uid);
    return;
  }
  GTEST_SKIP() << "cannot create and join a " << (v2 ? "v2" : "v1") << " cgroup here: " << why;
}

TEST(CgroupLiveTest, V1CgroupfsBurstable) { CheckLayout({"cgroupfs", Cgroupfs}, false); }
TEST(CgroupLiveTest, V1CgroupfsGuaranteed) { CheckLayout({"cgroupfs-guaranteed", CgroupfsGuaranteed}, false); }
TEST(CgroupLiveTest, V1SystemdNames) { CheckLayout({"systemd", Systemd}, false); }
TEST(CgroupLiveTest, V2CgroupfsBurstable) { CheckLayout({"cgroupfs", Cgroupfs}, true); }
TEST(CgroupLiveTest, V2SystemdNames) { CheckLayout({"systemd", Systemd}, true); }

}  // namespace
}  // namespace nodeproc

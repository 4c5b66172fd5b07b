#include "kube/container_resolver.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace nodeproc {
namespace {

const std::string kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kUid = "0a1b2c3d-0000-1111-2222-333344445555";

void WriteCgroup(const std::string& root, int pid, const std::string& content) {
  std::string dir = root + "/" + std::to_string(pid);
  mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/cgroup") << content;
}

TEST(ContainerResolverTest, ResolvesFromFixtureTreeAndCaches) {
  testing::TempDir tmp;
  WriteCgroup(tmp.path(), 100, "0::/kubepods/pod" + kUid + "/" + kId + "\n");
  WriteCgroup(tmp.path(), 200, "0::/init.scope\n");
  ContainerResolver r(tmp.path());
  ContainerRef a = r.Resolve(100, 5000);
  EXPECT_EQ(a.container_id, kId);
  EXPECT_EQ(a.pod_uid, kUid);
  EXPECT_EQ(a.pod_name, "");
  EXPECT_TRUE(r.Resolve(200, 1).empty());
  EXPECT_EQ(r.cached_for_test(), 2u);

  // Same identity: served from the cache even though the file changed.
  WriteCgroup(tmp.path(), 100, "0::/\n");
  EXPECT_EQ(r.Resolve(100, 5000).container_id, kId);
  // A recycled pid (new start time) is read again.
  EXPECT_TRUE(r.Resolve(100, 9000).empty());
}

TEST(ContainerResolverTest, HostAnswerIsConfirmedBeforeItIsRemembered) {
  testing::TempDir tmp;
  // A container process seen before the runtime moved it into its cgroup.
  WriteCgroup(tmp.path(), 300, "0::/system.slice/containerd.service\n");
  ContainerResolver r(tmp.path());
  EXPECT_TRUE(r.Resolve(300, 42).empty());
  WriteCgroup(tmp.path(), 300, "0::/kubepods/pod" + kUid + "/" + kId + "\n");
  EXPECT_EQ(r.Resolve(300, 42).container_id, kId);  // re-read: now in its container

  // A real host process is read kHostConfirmations times, then served from the cache.
  WriteCgroup(tmp.path(), 301, "0::/init.scope\n");
  for (int i = 0; i < ContainerResolver::kHostConfirmations; ++i) EXPECT_TRUE(r.Resolve(301, 1).empty());
  WriteCgroup(tmp.path(), 301, "0::/docker/" + kId + "\n");
  EXPECT_TRUE(r.Resolve(301, 1).empty());
}

TEST(ContainerResolverTest, PodOnlyAnswerIsConfirmedBeforeItIsRemembered) {
  testing::TempDir tmp;
  // CRI-O: conmon (in the pod's crio-conmon-<id> cgroup) starts the runtime, so a container's
  // main process is first seen in a pod-level cgroup, then moved into /kubepods/.../pod<uid>/<id>
  // (cgroupfs driver, v2). Remembering the first, partial answer left container_id empty for
  // the whole life of that process.
  WriteCgroup(tmp.path(), 400, "0::/kubepods/burstable/pod" + kUid + "/crio-conmon-" + kId + "\n");
  ContainerResolver r(tmp.path());
  ContainerRef first = r.Resolve(400, 77);
  EXPECT_EQ(first.container_id, "");
  EXPECT_EQ(first.pod_uid, kUid);
  WriteCgroup(tmp.path(), 400, "0::/kubepods/burstable/pod" + kUid + "/" + kId + "\n");
  ContainerRef moved = r.Resolve(400, 77);
  EXPECT_EQ(moved.container_id, kId);
  EXPECT_EQ(moved.pod_uid, kUid);
  // Complete answers are final for this identity.
  WriteCgroup(tmp.path(), 400, "0::/\n");
  EXPECT_EQ(r.Resolve(400, 77).container_id, kId);

  // A process that really lives at pod level (conmon itself) is confirmed, then remembered.
  WriteCgroup(tmp.path(), 401, "0::/kubepods/burstable/pod" + kUid + "/crio-conmon-" + kId + "\n");
  for (int i = 0; i < ContainerResolver::kHostConfirmations; ++i) {
    EXPECT_EQ(r.Resolve(401, 1).pod_uid, kUid);
  }
  WriteCgroup(tmp.path(), 401, "0::/kubepods/burstable/pod" + kUid + "/" + kId + "\n");
  EXPECT_EQ(r.Resolve(401, 1).container_id, "");
  EXPECT_EQ(r.Resolve(401, 1).pod_uid, kUid);
}

TEST(ContainerResolverTest, MissingProcessIsEmptyAndNotCached) {
  testing::TempDir tmp;
  ContainerResolver r(tmp.path());
  EXPECT_TRUE(r.Resolve(4242, 1).empty());
  EXPECT_EQ(r.cached_for_test(), 0u);
  WriteCgroup(tmp.path(), 4242, "0::/docker/" + kId + "\n");
  EXPECT_EQ(r.Resolve(4242, 1).container_id, kId);  // appeared later: read then
}

TEST(ContainerResolverTest, RetainForgetsDeadPids) {
  testing::TempDir tmp;
  for (int pid : {1, 2, 3}) WriteCgroup(tmp.path(), pid, "0::/docker/" + kId + "\n");
  ContainerResolver r(tmp.path());
  for (int pid : {1, 2, 3}) r.Resolve(pid, 7);
  EXPECT_EQ(r.cached_for_test(), 3u);
  r.Retain({1, 3});
  EXPECT_EQ(r.cached_for_test(), 2u);
  r.Retain({});
  EXPECT_EQ(r.cached_for_test(), 0u);
}

TEST(ContainerResolverTest, LiveProcSelf) {
  // Whatever this test runs in, reading our own cgroup file must work and not crash.
  ContainerResolver r("/proc");
  ContainerRef self = r.Resolve(static_cast<int32_t>(getpid()), 1);
  (void)self;
  EXPECT_EQ(r.cached_for_test(), 1u);
}

}  // namespace
}  // namespace nodeproc

#include "kube/cgroup_parser.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace nodeproc {
namespace {

// Ids and uids below follow the shapes seen in public runtime issues and docs (runc, cri-o,
// containerd, kind, cadvisor, elastic/otel container detectors).
constexpr char kId[] = "8e2a1d0f4c9b7a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e";
constexpr char kId2[] = "ee4b20e90ac7f42a10bd004d05646b13d8ab5e2c5e7cbc01abf8006bac016459";
constexpr char kUid[] = "5e8f1b1e-2f39-4b54-9d9f-1e2b3c4d5e6f";
constexpr char kUidUnderscores[] = "5e8f1b1e_2f39_4b54_9d9f_1e2b3c4d5e6f";

struct Case {
  std::string name;
  std::string content;
  std::optional<CgroupIdentity> want;
};

std::string S(const char* a) { return a; }

std::vector<Case> Cases() {
  const std::string id = kId, id2 = kId2, uid = kUid, uu = kUidUnderscores;
  return {
      // cgroupfs driver, cgroup v1, every controller line (docker-shim / containerd).
      {"cgroupfs_v1_burstable",
       "12:pids:/kubepods/burstable/pod" + uid + "/" + id + "\n11:memory:/kubepods/burstable/pod" + uid + "/" +
           id + "\n1:name=systemd:/kubepods/burstable/pod" + uid + "/" + id + "\n0::/\n",
       CgroupIdentity{id, uid, ""}},
      {"cgroupfs_v1_besteffort",
       "11:devices:/kubepods/besteffort/pod74c13223-5a00-11e9-b385-42010a80018d/" + id + "\n",
       CgroupIdentity{id, "74c13223-5a00-11e9-b385-42010a80018d", ""}},
      // cgroupfs driver, cgroup v2: the line of the fault_kubelet_test report (64-hex id).
      {"cgroupfs_v2_burstable", "0::/kubepods/burstable/pod" + uid + "/" + id + "\n", CgroupIdentity{id, uid, ""}},
      // An id one byte too long (66 hex, the fault fixture's old CONTAINER_ID) is not an id.
      {"cgroupfs_v2_66_hex_is_pod_only", "0::/kubepods/burstable/pod" + uid + "/" + id + "1d\n",
       CgroupIdentity{"", uid, ""}},
      {"cgroupfs_guaranteed_no_qos", "0::/kubepods/pod" + uid + "/" + id + "\n", CgroupIdentity{id, uid, ""}},
      {"cgroupfs_static_pod_hash_uid", "0::/kubepods/burstable/pod5795d0c442cb997ff93c49feeb9f6386/" + id,
       CgroupIdentity{id, "5795d0c442cb997ff93c49feeb9f6386", ""}},
      {"cgroupfs_crio", "0::/kubepods/besteffort/pod" + uid + "/crio-" + id + "\n", CgroupIdentity{id, uid, "cri-o"}},
      {"cgroupfs_crio_conmon_pod_only", "0::/kubepods/besteffort/pod" + uid + "/crio-conmon-" + id + "\n",
       CgroupIdentity{"", uid, ""}},
      // systemd driver, cgroup v2.
      {"systemd_v2_besteffort_containerd",
       "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uu + ".slice/cri-containerd-" + id +
           ".scope\n",
       CgroupIdentity{id, uid, "containerd"}},
      {"systemd_v2_guaranteed_containerd",
       "0::/kubepods.slice/kubepods-pod" + uu + ".slice/cri-containerd-" + id + ".scope\n",
       CgroupIdentity{id, uid, "containerd"}},
      {"systemd_v1_crio_all_lines",
       "13:freezer:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda5c1f8d5_1919_434d_add7_"
       "4afaafdaef89.slice/crio-" + id + ".scope\n11:files:/\n1:name=systemd:/kubepods.slice/kubepods-burstable.slice/"
       "kubepods-burstable-poda5c1f8d5_1919_434d_add7_4afaafdaef89.slice/crio-" + id + ".scope\n",
       CgroupIdentity{id, "a5c1f8d5-1919-434d-add7-4afaafdaef89", "cri-o"}},
      {"systemd_crio_conmon_is_not_the_container",
       "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uu + ".slice/crio-conmon-" + id +
           ".scope\n",
       CgroupIdentity{"", uid, ""}},
      {"systemd_docker_in_kubepods",
       "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uu + ".slice/docker-" + id + ".scope",
       CgroupIdentity{id, uid, "docker"}},
      {"systemd_podman_libpod", "0::/machine.slice/libpod-" + id + ".scope\n", CgroupIdentity{id, "", "podman"}},
      {"systemd_podman_conmon_is_host", "0::/machine.slice/libpod-conmon-" + id + ".scope\n", std::nullopt},
      // containerd's systemd "slice:prefix:name" form, as /proc shows it in cgroup v1.
      {"containerd_slice_prefix_name",
       "10:blkio:/system.slice/containerd.service/kubepods-besteffort-pod0125ec2f_b64a_4868_8f5b_94b56cbab864.slice:"
       "cri-containerd:" + id2 + "\n8:cpuset:/kubepods-besteffort-pod0125ec2f_b64a_4868_8f5b_94b56cbab864.slice:"
       "cri-containerd:" + id2 + "\n",
       CgroupIdentity{id2, "0125ec2f-b64a-4868-8f5b-94b56cbab864", "containerd"}},
      // Plain docker (not kube).
      {"docker_cgroupfs", "3:cpu,cpuacct:/docker/" + id + "\n", CgroupIdentity{id, "", "docker"}},
      {"docker_systemd", "0::/system.slice/docker-" + id + ".scope\n", CgroupIdentity{id, "", "docker"}},
      {"docker_root_level_id", "4:memory:/" + id + "\n", CgroupIdentity{id, "", ""}},
      {"actions_job_docker_like", "0::/actions_job/" + id + "\n", CgroupIdentity{id, "", "docker"}},
      // kind: a kubelet inside a docker container; the innermost id wins.
      {"kind_cgroupfs_nested",
       "0::/docker/" + id2 + "/kubepods/besteffort/pod" + uid + "/" + id + "\n", CgroupIdentity{id, uid, ""}},
      {"kind_systemd_nested",
       "0::/system.slice/docker-" + id2 + ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort."
       "slice/kubelet-kubepods-besteffort-pod" + uu + ".slice/cri-containerd-" + id + ".scope\n",
       CgroupIdentity{id, uid, "containerd"}},
      {"kind_conmon_not_outer_container",
       "0::/docker/" + id2 + "/kubepods/burstable/pod" + uid + "/crio-conmon-" + id + "\n",
       CgroupIdentity{"", uid, ""}},
      {"kind_pod_level_process", "0::/docker/" + id2 + "/kubepods/burstable/pod" + uid + "\n",
       CgroupIdentity{"", uid, ""}},
      // The kind node's own processes (kubelet, containerd) are in the outer container only.
      {"kind_node_process", "0::/docker/" + id2 + "/system.slice/containerd.service\n",
       CgroupIdentity{id2, "", "docker"}},
      // The agent in its own cgroup namespace (DaemonSet without hostPID, cgroup v2): the
      // paths of other processes are relative to the agent's cgroup and start with "..".
      {"cgroupns_relative_cgroupfs", "0::/../../pod" + uid + "/" + id + "\n", CgroupIdentity{id, uid, ""}},
      {"cgroupns_relative_systemd",
       "0::/../../kubepods-besteffort-pod" + uu + ".slice/cri-containerd-" + id + ".scope\n",
       CgroupIdentity{id, uid, "containerd"}},
      {"cgroupns_relative_host", "0::/../../../../system.slice/sshd.service\n", std::nullopt},
      // A process in a sub-cgroup of its container (systemd or a supervisor inside it).
      {"sub_cgroup_inside_container",
       "0::/kubepods.slice/kubepods-pod" + uu + ".slice/cri-containerd-" + id + ".scope/init.scope\n",
       CgroupIdentity{id, uid, "containerd"}},
      {"uppercase_hex_lowered", "0::/kubepods/pod" + uid + "/" + S("8E2A1D0F4C9B7A6E5D4C3B2A1F0E9D8C7B6A5F4E3D2C1B0A9F8E7D6C5B4A3F2E"),
       CgroupIdentity{id, uid, ""}},
      {"crlf_lines", "0::/docker/" + id + "\r\n", CgroupIdentity{id, "", "docker"}},
      {"trailing_slash", "0::/kubepods/burstable/pod" + uid + "/" + id + "/\n", CgroupIdentity{id, uid, ""}},
      // The container line beats a pod-only line, whatever their order.
      {"container_line_beats_pod_line",
       "5:cpu:/kubepods/burstable/pod" + uid + "\n4:memory:/kubepods/burstable/pod" + uid + "/" + id + "\n",
       CgroupIdentity{id, uid, ""}},
      // Amazon ECS (task id is 32 hex, the container 64) and rootless podman under a user slice.
      {"ecs_task", "9:perf_event:/ecs/55091c13b9b54ee9b5b3d1c10e4fbd0b/" + id + "\n", CgroupIdentity{id, "", ""}},
      {"rootless_podman",
       "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id + ".scope/container\n",
       CgroupIdentity{id, "", "podman"}},
      // crun under CRI-O on cgroup v2 puts the payload in a "container" sub-cgroup.
      {"crio_crun_container_subcgroup",
       "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uu + ".slice/crio-" + id +
           ".scope/container\n",
       CgroupIdentity{id, uid, "cri-o"}},
      // Host processes and junk.
      {"host_root_v2", "0::/\n", std::nullopt},
      {"host_init_scope", "0::/init.scope\n", std::nullopt},
      {"host_user_slice", "0::/user.slice/user-1000.slice/session-3.scope\n", std::nullopt},
      {"host_sshd", "1:name=systemd:/system.slice/sshd.service\n0::/system.slice/sshd.service\n", std::nullopt},
      {"host_kubelet_service", "0::/system.slice/kubelet.service\n", std::nullopt},
      {"host_containerd_service", "0::/system.slice/containerd.service\n", std::nullopt},
      {"kubepods_qos_level_only", "0::/kubepods.slice/kubepods-burstable.slice\n", std::nullopt},
      {"sandbox_32hex_not_an_id", "4:memory:/process_api/22da547fced49a9d868e113092cfef79\n", std::nullopt},
      {"empty", "", std::nullopt},
      {"colons_only", "::\n:\n0:\n", std::nullopt},
      {"pod_without_uid", "0::/kubepods/pod/\n", std::nullopt},
      {"scope_without_id", "0::/kubepods.slice/kubepods-pod.slice/cri-containerd-.scope\n", std::nullopt},
      {"short_id", "0::/docker/abc123\n", std::nullopt},
      {"id_with_non_hex", "0::/docker/" + id.substr(0, 63) + "g\n", std::nullopt},
      {"relative_path_ignored", "0::kubepods/pod" + uid + "/" + id + "\n", std::nullopt},
      {"bad_uid_chars", "0::/kubepods/podzzzzzzzz-2f39-4b54-9d9f-1e2b3c4d5e6f/\n", std::nullopt},
  };
}

TEST(CgroupParserTest, Table) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    std::optional<CgroupIdentity> got = ParseCgroupFile(c.content);
    ASSERT_EQ(got.has_value(), c.want.has_value()) << c.content;
    if (got) {
      EXPECT_EQ(got->container_id, c.want->container_id);
      EXPECT_EQ(got->pod_uid, c.want->pod_uid);
      EXPECT_EQ(got->runtime, c.want->runtime);
    }
  }
}

TEST(CgroupParserTest, PathAloneWorks) {
  auto got = ParseCgroupPath(std::string("/kubepods/pod") + kUid + "/" + kId);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->container_id, kId);
  EXPECT_EQ(got->pod_uid, kUid);
}

TEST(CgroupParserTest, DeepAndLongInputDoesNotCrash) {
  std::string deep = "0::";
  for (int i = 0; i < 5000; ++i) deep += "/kubepods";
  EXPECT_FALSE(ParseCgroupFile(deep).has_value());
  std::string many;
  for (int i = 0; i < 2000; ++i) many += std::to_string(i) + ":x:/\n";
  many += "0::/docker/" + std::string(kId) + "\n";
  auto got = ParseCgroupFile(many);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->container_id, kId);
  static constexpr char kBinary[] = "0::/\0\xff\xfe/kubepods";
  std::string binary(kBinary, sizeof(kBinary) - 1);
  EXPECT_FALSE(ParseCgroupFile(binary).has_value());
}

}  // namespace
}  // namespace nodeproc

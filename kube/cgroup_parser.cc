#include "kube/cgroup_parser.h"

#include <cstddef>

namespace nodeproc {
namespace {

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Runtimes name containers by 64 hex digits (docker, containerd, cri-o, podman).
bool IsContainerId(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!IsHex(c)) return false;
  }
  return true;
}

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// A pod uid: a UUID (36 chars, dashes; systemd writes underscores) or, for static pods, the
// 32-hex config hash. Returns the normalised form (dashes, lower case) or "".
std::string NormalisePodUid(std::string_view s) {
  if (s.size() != 32 && s.size() != 36) return "";
  std::string out;
  out.reserve(s.size());
  size_t hex = 0;
  for (char c : s) {
    if (IsHex(c)) {
      out.push_back(Lower(c));
      ++hex;
    } else if (c == '-' || c == '_') {
      out.push_back('-');
    } else {
      return "";
    }
  }
  if (hex != 32) return "";
  return out;
}

bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

bool ConsumeSuffix(std::string_view* s, std::string_view suffix) {
  if (s->size() < suffix.size() || s->substr(s->size() - suffix.size()) != suffix) return false;
  s->remove_suffix(suffix.size());
  return true;
}

// The state of a walk down one path: what the innermost levels said so far.
struct Walk {
  std::string container_id;
  std::string runtime;
  std::string pod_uid;
  std::string_view parent;  // previous component

  void SetContainer(std::string_view id, std::string_view rt) {
    container_id = LowerCopy(id);
    runtime = std::string(rt);
  }
  // A pod level (or the kubepods root) below a container id means that id was an outer
  // container (a kind node): it is not this process's container.
  void EnterPodLevel() {
    container_id.clear();
    runtime.clear();
  }
  void SetPod(std::string uid) {
    EnterPodLevel();
    pod_uid = std::move(uid);
  }
};

// `kubepods-burstable-pod<u_i_d>.slice`, `kubelet-kubepods-pod<u_i_d>.slice` (systemd) -> uid.
std::string PodUidFromSlice(std::string_view c) {
  if (!ConsumeSuffix(&c, ".slice")) return "";
  size_t at = c.rfind("-pod");
  if (at == std::string_view::npos) return "";
  return NormalisePodUid(c.substr(at + 4));
}

std::string_view RuntimeForPrefix(std::string_view prefix) {
  if (prefix == "cri-containerd") return "containerd";
  if (prefix == "crio") return "cri-o";
  if (prefix == "docker") return "docker";
  if (prefix == "libpod") return "podman";
  return "";
}

void VisitComponent(std::string_view c, Walk* w) {
  // containerd's systemd form: "<slice>:<prefix>:<name>" in one component.
  size_t colon = c.find(':');
  if (colon != std::string_view::npos) {
    std::string_view slice = c.substr(0, colon);
    std::string_view rest = c.substr(colon + 1);
    size_t colon2 = rest.find(':');
    if (colon2 == std::string_view::npos) return;
    std::string_view prefix = rest.substr(0, colon2);
    std::string_view name = rest.substr(colon2 + 1);
    std::string uid = PodUidFromSlice(slice);
    if (!uid.empty()) w->SetPod(std::move(uid));
    if (IsContainerId(name)) w->SetContainer(name, RuntimeForPrefix(prefix));
    return;
  }

  if (c == "kubepods" || c == "kubepods.slice") {
    w->EnterPodLevel();
    return;
  }

  // cgroupfs driver: pod<uid>.
  if (c.size() > 3 && c.substr(0, 3) == "pod") {
    std::string uid = NormalisePodUid(c.substr(3));
    if (!uid.empty()) {
      w->SetPod(std::move(uid));
      return;
    }
  }

  // systemd driver: ...-pod<u_i_d>.slice.
  if (c.size() > 6 && c.substr(c.size() - 6) == ".slice") {
    std::string uid = PodUidFromSlice(c);
    if (!uid.empty()) w->SetPod(std::move(uid));
    return;
  }

  // <prefix>-<id>[.scope] (systemd scopes; cri-o also names cgroupfs leaves crio-<id>).
  std::string_view s = c;
  ConsumeSuffix(&s, ".scope");
  if (ConsumePrefix(&s, "crio-conmon-") || ConsumePrefix(&s, "libpod-conmon-")) {
    // The conmon monitor of a container: the pod is right, the container is not.
    return;
  }
  for (std::string_view prefix : {"cri-containerd", "crio", "docker", "libpod"}) {
    std::string_view rest = s;
    if (ConsumePrefix(&rest, prefix) && ConsumePrefix(&rest, "-") && IsContainerId(rest)) {
      w->SetContainer(rest, RuntimeForPrefix(prefix));
      return;
    }
  }

  // A bare id: /docker/<id>, /kubepods/.../pod<uid>/<id>, /actions_job/<id>, /lxc/<id>.
  if (IsContainerId(c)) {
    std::string_view rt;
    if (w->parent == "docker" || w->parent == "actions_job") rt = "docker";
    w->SetContainer(c, rt);
  }
}

}  // namespace

std::optional<CgroupIdentity> ParseCgroupPath(std::string_view path) {
  Walk w;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view c = path.substr(pos, slash - pos);
    if (!c.empty()) {
      VisitComponent(c, &w);
      w.parent = c;
    }
    pos = slash + 1;
  }
  if (w.container_id.empty() && w.pod_uid.empty()) return std::nullopt;
  return CgroupIdentity{std::move(w.container_id), std::move(w.pod_uid), std::move(w.runtime)};
}

std::optional<CgroupIdentity> ParseCgroupFile(std::string_view content) {
  std::optional<CgroupIdentity> best;
  int best_score = 0;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t nl = content.find('\n', pos);
    if (nl == std::string_view::npos) nl = content.size();
    std::string_view line = content.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // hierarchy-ID:controllers:path; the path itself may hold ':' (containerd systemd form).
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view path = line.substr(c2 + 1);
    if (path.empty() || path.front() != '/') continue;
    std::optional<CgroupIdentity> id = ParseCgroupPath(path);
    if (!id) continue;
    // A line naming the container (and its pod) beats one naming only the pod: with cgroup v1
    // the controllers may disagree while a container is being set up.
    int score = (id->container_id.empty() ? 0 : 2) + (id->pod_uid.empty() ? 0 : 1);
    if (score > best_score) {
      best_score = score;
      best = std::move(id);
    }
  }
  return best;
}

}  // namespace nodeproc

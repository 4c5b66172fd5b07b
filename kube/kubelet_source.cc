#include "kube/kubelet_source.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace nodeproc {

std::string KubeletOutcomeFromStatus(const absl::Status& status) {
  if (status.ok()) return "ok";
  std::string name = absl::StatusCodeToString(status.code());
  absl::AsciiStrToLower(&name);
  for (char& c : name) {
    if (c == ' ') c = '_';
  }
  return name;
}

std::string FixtureKubeletSource::FileFor(std::string_view path) const {
  std::string_view p = path;
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  // Strip a query string if any ("/stats/summary?only_cpu_and_memory=true").
  if (auto q = p.find('?'); q != std::string_view::npos) p = p.substr(0, q);
  return absl::StrCat(dir_, "/", ToAbsl(p), ".json");
}

absl::StatusOr<std::string> FixtureKubeletSource::Fetch(std::string_view path) {
  if (path != "/stats/summary" && path != "/pods") {
    return absl::InvalidArgumentError(absl::StrCat("unsupported kubelet path ", ToAbsl(path)));
  }
  const std::string file = FileFor(path);
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = absl::StrCat("kubelet fixture ", file, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg) : absl::PermissionDeniedError(msg);
  }
  std::string body;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat("kubelet fixture ", file, ": ", std::strerror(err)));
    }
    if (n == 0) break;
    body.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return body;
}

}  // namespace nodeproc

#include "kube/kubelet_source.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/read_file.h"

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
  // The same cap as a kubelet response body (KubeletClientOptions::max_body_bytes).
  absl::StatusOr<std::string> body = ReadWholeFile(file, kMaxKubeletBodyBytes);
  if (!body.ok()) {
    std::string msg = absl::StrCat("kubelet fixture ", body.status().message());
    switch (body.status().code()) {
      case absl::StatusCode::kNotFound: return absl::NotFoundError(msg);
      case absl::StatusCode::kResourceExhausted: return absl::ResourceExhaustedError(msg);
      default: return absl::PermissionDeniedError(msg);
    }
  }
  return body;
}

}  // namespace nodeproc

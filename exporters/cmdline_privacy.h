#pragma once
// What of a command line leaves the node. By default known secrets are scrubbed to "********"
// (values of --password=x / --password x / --db-pass=x / -Dpassword=x / AWS_SECRET_ACCESS_KEY=x
// / token x / api_key= / --client-secret, mysql -pSECRET, redis-cli -a SECRET,
// `aws configure set aws_secret_access_key x`, curl -u user:pass, scheme://user:pass@host (also
// with '/' in the password), Go DSNs user:pass@tcp(host)/db, "Authorization: Bearer x", bare
// JWTs eyJ..., GitHub tokens ghp_/gho_/ghu_/ghs_/ghr_/github_pat_, AWS key ids, ...), plus
// matches of extra RE2 patterns. With anonymize, the (scrubbed) command line becomes the first
// 12 hex chars of its SHA-256, or of its HMAC-SHA-256 when a key is given; an empty command
// line (kernel threads) stays empty.
//
// The argument vector is scrubbed before it is joined (ApplyArgs), so a value that holds
// spaces (`--password "correct horse battery"`) is masked whole; the words of each argument
// are scrubbed too (secrets inside `sh -c "..."`). Apply() takes an already joined line (a
// probe without argv) and can only split it on spaces.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace nodeproc {

struct CmdlinePrivacyOptions {
  bool anonymize = false;
  std::string hmac_key;  // HMAC-SHA-256 key (trailing CR/LF trimmed); empty: plain SHA-256
  bool scrub = true;
  // RE2 patterns (Prometheus' syntax), searched anywhere in the joined command line: the text
  // of capture group 1 (the whole match if the pattern has no group) becomes "********".
  std::vector<std::string> extra_patterns;
};

class CmdlinePrivacy {
 public:
  static constexpr std::string_view kMask = "********";

  // InvalidArgument (one line naming the pattern) when an extra pattern is not valid RE2.
  static absl::StatusOr<CmdlinePrivacy> Create(CmdlinePrivacyOptions options);

  // Default: scrub known secrets, no anonymisation, no extra patterns.
  CmdlinePrivacy();
  ~CmdlinePrivacy();
  CmdlinePrivacy(const CmdlinePrivacy&);
  CmdlinePrivacy& operator=(const CmdlinePrivacy&);
  CmdlinePrivacy(CmdlinePrivacy&&) noexcept;
  CmdlinePrivacy& operator=(CmdlinePrivacy&&) noexcept;

  // `args`: the NUL-separated argument vector (/proc/<pid>/cmdline; trailing NULs ignored).
  // Returns the command line as it leaves the node: arguments joined by single spaces,
  // scrubbed, anonymised if asked.
  std::string ApplyArgs(std::string_view args) const;
  // The same for an already joined command line (arguments known only by spaces).
  std::string Apply(std::string_view cmdline) const;

  // Just the built-in scrubber (for tests and reuse): on a joined line, and on an argument
  // vector (NUL-separated; the result is joined by spaces).
  static std::string ScrubKnownSecrets(std::string_view cmdline);
  static std::string ScrubKnownSecretsInArgs(std::string_view args);
  // First 12 hex chars of SHA-256(data), or HMAC-SHA-256(key, data) when key is not empty.
  static std::string ShortDigest(std::string_view data, std::string_view key);

 private:
  struct Patterns;  // compiled extra patterns (RE2), shared by copies
  std::string Finish(std::string text, bool empty) const;

  CmdlinePrivacyOptions options_;
  std::shared_ptr<const Patterns> extra_;
};

}  // namespace nodeproc

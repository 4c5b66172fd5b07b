#pragma once
// What of a command line leaves the node. By default known secrets are scrubbed to "********"
// (values of --password=x / --password x / -Dpassword=x / AWS_SECRET_ACCESS_KEY=x / token x /
// api_key= / --client-secret, mysql -pSECRET, curl -u user:pass, scheme://user:pass@host,
// "Authorization: Bearer x", ...), plus matches of extra regexes. With anonymize, the
// (scrubbed) command line becomes the first 12 hex chars of its SHA-256, or of its
// HMAC-SHA-256 when a key is given; an empty command line (kernel threads) stays empty.
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace nodeproc {

struct CmdlinePrivacyOptions {
  bool anonymize = false;
  std::string hmac_key;  // HMAC-SHA-256 key (trailing CR/LF trimmed); empty: plain SHA-256
  bool scrub = true;
  // ECMAScript regexes: the text of capture group 1 (the whole match if the pattern has no
  // group) becomes "********".
  std::vector<std::string> extra_patterns;
};

class CmdlinePrivacy {
 public:
  static constexpr std::string_view kMask = "********";

  // InvalidArgument when an extra pattern is not a valid regex.
  static absl::StatusOr<CmdlinePrivacy> Create(CmdlinePrivacyOptions options);

  // Default: scrub known secrets, no anonymisation, no extra patterns.
  CmdlinePrivacy() = default;

  std::string Apply(std::string_view cmdline) const;

  // Just the built-in scrubber (for tests and reuse).
  static std::string ScrubKnownSecrets(std::string_view cmdline);
  // First 12 hex chars of SHA-256(data), or HMAC-SHA-256(key, data) when key is not empty.
  static std::string ShortDigest(std::string_view data, std::string_view key);

 private:
  CmdlinePrivacyOptions options_;
  std::vector<std::regex> extra_;
};

}  // namespace nodeproc

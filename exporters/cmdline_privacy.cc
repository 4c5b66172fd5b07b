#include "exporters/cmdline_privacy.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#if NODEPROC_HAVE_RE2
#include <re2/re2.h>
#endif

namespace nodeproc {
namespace {

using Range = std::pair<size_t, size_t>;  // [begin, end) to mask

std::string Normalize(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '-' || c == '_' || c == '.') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// A normalized key (lower case, no - _ .) that names a secret value.
bool IsSecretKey(std::string_view k) {
  if (k.empty()) return false;
  // Where a secret lives is not the secret: --token-file=/path, --password-dir, ...
  for (std::string_view s : {"file", "path", "dir", "stdin", "env", "prompt", "ttl", "type",
                              "hash", "id", "name"}) {
    if (EndsWith(k, s)) return false;
  }
  if (k.find("tokenizer") != std::string_view::npos) return false;
  if (k.size() > 2 && k.substr(0, 2) == "no" && IsSecretKey(k.substr(2))) return false;  // --no-password
  if (k == "pass" || k == "pw" || EndsWith(k, "pwd")) return true;
  for (std::string_view w : {"password", "passwd", "passphrase", "secret", "token", "apikey",
                             "accesskey", "privatekey", "credential", "requirepass",
                             "masterauth", "authkey", "sessionkey", "signingkey"}) {
    if (k.find(w) != std::string_view::npos) return true;
  }
  return false;
}

// IsSecretKey on a key as written, plus "pass" as its last word: --db-pass, SSH_PASS,
// redis.pass (not --bypass or --compass).
bool IsSecretRawKey(std::string_view raw) {
  if (IsSecretKey(Normalize(raw))) return true;
  if (raw.size() < 5) return false;
  const std::string_view tail = raw.substr(raw.size() - 5);
  return (tail[0] == '-' || tail[0] == '_' || tail[0] == '.') && EqualsIgnoreCase(tail.substr(1), "pass");
}

// Bare words (no dash) that announce a secret as the next argument: `token x`.
bool IsBareSecretWord(std::string_view k) {
  for (std::string_view w : {"password", "passwd", "token", "secret", "requirepass", "masterauth",
                             "apikey", "passphrase"}) {
    if (k == w) return true;
  }
  return false;
}

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

std::string_view Basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool IsMysqlClient(std::string_view program) {
  for (std::string_view p : {"mysql", "mysqldump", "mysqladmin", "mysqlimport", "mysqlshow",
                             "mysqlcheck", "mysqlslap", "mysqlpump", "mysqlsh", "mariadb",
                             "mariadb-dump", "mariadb-admin", "mariadb-import", "mariadb-check"}) {
    if (program == p) return true;
  }
  return false;
}

bool IsRedisClient(std::string_view program) {
  for (std::string_view p : {"redis-cli", "redis-benchmark", "keydb-cli", "valkey-cli"}) {
    if (program == p) return true;
  }
  return false;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// scheme://user:pass@host: the password, also when it holds '/' (scheme://u:pa/ss@host/db,
// not a valid URL but a common one): then the last '@' before the query ends it, unless what
// follows the ':' is a port (host:5000/img@sha256:...).
void MaskUrlCredentials(std::string_view tok, size_t base, std::vector<Range>* out) {
  size_t from = 0;
  while (true) {
    const size_t scheme = tok.find("://", from);
    if (scheme == std::string_view::npos) return;
    const size_t start = scheme + 3;
    size_t end = tok.find_first_of(" \t\n?#", start);  // an argument may hold several words
    if (end == std::string_view::npos) end = tok.size();
    const size_t next = tok.find("://", start);
    if (next != std::string_view::npos && next < end) end = next;
    const std::string_view rest = tok.substr(start, end - start);
    const size_t slash = rest.find('/');
    const size_t colon = rest.find(':');
    size_t at = rest.substr(0, slash).rfind('@');
    if (at == std::string_view::npos && slash != std::string_view::npos && colon < slash) {
      at = rest.rfind('@');
      if (at != std::string_view::npos && AllDigits(rest.substr(colon + 1, slash - colon - 1))) {
        at = std::string_view::npos;  // host:port/path@x
      }
    }
    if (at != std::string_view::npos && colon != std::string_view::npos && colon < at &&
        at > colon + 1) {
      out->emplace_back(base + start + colon + 1, base + start + at);
    }
    from = end == tok.size() ? end : end + (end == next ? 0 : 1);
    if (from >= tok.size()) return;
  }
}

// Go database DSNs: [user[:password]@][net[(addr)]]/dbname, e.g. app:pw@tcp(db:3306)/shop,
// anywhere in a token (--dsn=..., DATABASE_DSN=...). The password runs from the first ':' of
// the user part to the '@' before the protocol (so it may hold '@' or ':').
void MaskGoDsn(std::string_view tok, size_t base, std::vector<Range>* out) {
  for (std::string_view marker : {"@tcp(", "@tcp6(", "@unix(", "@udp(", "@/"}) {
    for (size_t at = tok.find(marker); at != std::string_view::npos; at = tok.find(marker, at + 1)) {
      size_t begin = tok.find_last_of(" =\"'", at);
      begin = begin == std::string_view::npos ? 0 : begin + 1;
      const size_t scheme = tok.rfind("://", at);
      if (scheme != std::string_view::npos && scheme + 3 > begin) begin = scheme + 3;
      const size_t colon = tok.find(':', begin);
      if (colon != std::string_view::npos && colon + 1 < at) out->emplace_back(base + colon + 1, base + at);
    }
  }
}

bool IsBase64UrlChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// Bare JSON Web Tokens: eyJ<header>.<payload>.<signature> (base64url parts), anywhere.
void MaskJwts(std::string_view tok, size_t base, std::vector<Range>* out) {
  for (size_t p = tok.find("eyJ"); p != std::string_view::npos; p = tok.find("eyJ", p + 1)) {
    if (p > 0 && IsBase64UrlChar(tok[p - 1])) continue;
    size_t e = p;
    size_t parts[3] = {0, 0, 0};
    for (int k = 0; k < 3; ++k) {
      const size_t b = e;
      while (e < tok.size() && IsBase64UrlChar(tok[e])) ++e;
      parts[k] = e - b;
      if (k < 2) {
        if (e >= tok.size() || tok[e] != '.') break;
        ++e;
      }
    }
    if (parts[0] >= 10 && parts[1] >= 2 && (parts[2] > 0 || (e > 0 && tok[e - 1] == '.'))) {
      out->emplace_back(base + p, base + e);
      p = e - 1;
    }
  }
}

// GitHub tokens: ghp_ (classic), gho_ (OAuth), ghu_ / ghs_ (app user / server), ghr_
// (refresh), github_pat_ (fine-grained), followed by 20+ [A-Za-z0-9_].
void MaskGithubTokens(std::string_view tok, size_t base, std::vector<Range>* out) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::string_view prefix : {"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}) {
    for (size_t p = tok.find(prefix); p != std::string_view::npos; p = tok.find(prefix, p + 1)) {
      if (p > 0 && word(tok[p - 1])) continue;
      size_t e = p + prefix.size();
      while (e < tok.size() && word(tok[e])) ++e;
      if (e - p - prefix.size() >= 20) out->emplace_back(base + p, base + e);
    }
  }
}

// key=value pieces: the whole token (--password=x, -Dpassword=x, AWS_SECRET_ACCESS_KEY=x) and
// pieces after ; & ? (connection strings, query strings).
void MaskKeyValues(std::string_view tok, size_t base, std::vector<Range>* out) {
  size_t seg = 0;
  while (seg < tok.size()) {
    size_t k = seg;
    while (k < tok.size() && tok[k] == '-') ++k;
    if (seg == 0 && k == 1 && k < tok.size() && tok[k] == 'D') ++k;  // java -Dkey=value
    size_t key_end = k;
    while (key_end < tok.size() && IsKeyChar(tok[key_end])) ++key_end;
    if (key_end < tok.size() && tok[key_end] == '=' && key_end > k &&
        IsSecretRawKey(tok.substr(k, key_end - k))) {
      size_t value_start = key_end + 1;
      size_t value_end = seg == 0 ? tok.size() : tok.find_first_of(";&", value_start);
      if (value_end == std::string_view::npos) value_end = tok.size();
      if (value_end > value_start) out->emplace_back(base + value_start, base + value_end);
      if (seg == 0) return;  // the rest of the token was the value
      seg = value_end;
    }
    size_t next = tok.find_first_of(";&?", seg);
    if (next == std::string_view::npos) return;
    seg = next + 1;
  }
}

// AWS access key ids (AKIA... long-term, ASIA... temporary): 20 upper-case alphanumerics
// wherever they appear in a token.
void MaskAwsAccessKeyIds(std::string_view tok, size_t base, std::vector<Range>* out) {
  auto upper_alnum = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  for (size_t p = 0; p + 20 <= tok.size(); ++p) {
    if (tok.compare(p, 4, "AKIA") != 0 && tok.compare(p, 4, "ASIA") != 0) continue;
    if (p > 0 && upper_alnum(tok[p - 1])) continue;
    size_t e = p + 4;
    while (e < tok.size() && upper_alnum(tok[e])) ++e;
    if (e - p == 20) out->emplace_back(base + p, base + e);
    p = e - 1;
  }
}

void MergeAndMask(std::string_view text, std::vector<Range>* ranges, std::string* out) {
  std::sort(ranges->begin(), ranges->end());
  out->clear();
  out->reserve(text.size());
  size_t pos = 0;
  for (size_t i = 0; i < ranges->size();) {
    size_t b = (*ranges)[i].first, e = (*ranges)[i].second;
    for (++i; i < ranges->size() && (*ranges)[i].first <= e; ++i) e = std::max(e, (*ranges)[i].second);
    if (b < pos) b = pos;
    if (e <= b) continue;
    out->append(text.substr(pos, b - pos));
    out->append(CmdlinePrivacy::kMask);
    pos = e;
  }
  out->append(text.substr(pos));
}

}  // namespace

struct CmdlinePrivacy::Patterns {
#if NODEPROC_HAVE_RE2
  std::vector<std::unique_ptr<re2::RE2>> res;
#endif
};

CmdlinePrivacy::CmdlinePrivacy() = default;
CmdlinePrivacy::~CmdlinePrivacy() = default;
CmdlinePrivacy::CmdlinePrivacy(const CmdlinePrivacy&) = default;
CmdlinePrivacy& CmdlinePrivacy::operator=(const CmdlinePrivacy&) = default;
CmdlinePrivacy::CmdlinePrivacy(CmdlinePrivacy&&) noexcept = default;
CmdlinePrivacy& CmdlinePrivacy::operator=(CmdlinePrivacy&&) noexcept = default;

absl::StatusOr<CmdlinePrivacy> CmdlinePrivacy::Create(CmdlinePrivacyOptions options) {
  CmdlinePrivacy p;
  while (!options.hmac_key.empty() &&
         (options.hmac_key.back() == '\n' || options.hmac_key.back() == '\r')) {
    options.hmac_key.pop_back();
  }
  if (!options.extra_patterns.empty()) {
#if NODEPROC_HAVE_RE2
    auto patterns = std::make_shared<Patterns>();
    for (const std::string& pattern : options.extra_patterns) {
      re2::RE2::Options re_options;
      re_options.set_log_errors(false);
      auto re = std::make_unique<re2::RE2>(pattern, re_options);
      if (!re->ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid secret pattern \"", pattern, "\": ", re->error()));
      }
      patterns->res.push_back(std::move(re));
    }
    p.extra_ = std::move(patterns);
#else
    return absl::InvalidArgumentError("secret patterns need RE2, which this build does not have");
#endif
  }
  p.options_ = std::move(options);
  return p;
}

namespace {

// Spaces split `text` into tokens [begin, end) (empty ones skipped).
std::vector<Range> SpaceTokens(std::string_view text) {
  std::vector<Range> tokens;
  for (size_t i = 0; i < text.size();) {
    size_t e = text.find(' ', i);
    if (e == std::string_view::npos) e = text.size();
    if (e > i) tokens.emplace_back(i, e);
    i = e + 1;
  }
  return tokens;
}

// The ranges of `cmdline` that hold known secrets, reading it as the given tokens (the
// arguments, or the space-separated words).
void CollectMasks(std::string_view cmdline, const std::vector<Range>& tokens, std::vector<Range>* out) {
  std::vector<Range>& mask = *out;
  auto tok = [&](size_t i) { return cmdline.substr(tokens[i].first, tokens[i].second - tokens[i].first); };
  // Masks the argument after token i (unless it is another flag); returns whether it did.
  auto mask_next = [&](size_t i) {
    if (i + 1 >= tokens.size()) return;
    std::string_view next = tok(i + 1);
    if (next.size() > 1 && next[0] == '-') return;
    if (next == "-") return;  // "read it from stdin"
    mask.push_back(tokens[i + 1]);
  };
  // "Authorization: Bearer x": the scheme word is not the secret, what follows is.
  auto mask_header_value = [&](size_t& i) {
    if (i + 2 < tokens.size()) {
      std::string_view scheme = tok(i + 1);
      for (std::string_view s : {"bearer", "basic", "token", "digest", "negotiate", "apikey"}) {
        if (EqualsIgnoreCase(scheme, s)) {
          ++i;
          break;
        }
      }
    }
    mask_next(i);
  };
  bool mysql = false;
  bool sshpass = false;
  bool redis = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view t = tok(i);
    const size_t base = tokens[i].first;
    if (t.empty()) continue;  // an empty argument
    if (t[0] != '-' && IsMysqlClient(Basename(t))) mysql = true;
    if (t[0] != '-' && Basename(t) == "sshpass") sshpass = true;
    if (t[0] != '-' && IsRedisClient(Basename(t))) redis = true;
    MaskUrlCredentials(t, base, &mask);
    MaskKeyValues(t, base, &mask);
    MaskAwsAccessKeyIds(t, base, &mask);
    MaskGoDsn(t, base, &mask);
    MaskJwts(t, base, &mask);
    MaskGithubTokens(t, base, &mask);
    // redis-cli -a SECRET.
    if (redis && t == "-a") {
      mask_next(i);
      continue;
    }
    // mysql -pSECRET (attached; "-p x" would make x the database name).
    if (mysql && t.size() > 2 && t[0] == '-' && t[1] == 'p') {
      mask.emplace_back(base + 2, tokens[i].second);
      continue;
    }
    // sshpass -p SECRET / -pSECRET.
    if (sshpass && t.size() >= 2 && t[0] == '-' && t[1] == 'p') {
      if (t.size() == 2) {
        mask_next(i);
      } else {
        mask.emplace_back(base + 2, tokens[i].second);
      }
      continue;
    }
    // --header=Authorization: Basic x (curl -H, wget --header=...).
    if (const size_t eq = t.rfind('='); eq != std::string_view::npos && t.back() == ':') {
      const std::string norm = Normalize(t.substr(eq + 1, t.size() - eq - 2));
      if (norm == "authorization" || norm == "proxyauthorization") {
        mask_header_value(i);
        continue;
      }
    }

    if (t.find('=') == std::string_view::npos) {
      const bool dashed = t[0] == '-';
      std::string_view key = t;
      while (!key.empty() && key[0] == '-') key.remove_prefix(1);
      const bool header = !dashed && key.size() > 1 && key.back() == ':';
      if (header) key.remove_suffix(1);
      const std::string norm = Normalize(key);
      if (header && (norm == "authorization" || norm == "proxyauthorization" || IsSecretKey(norm))) {
        mask_header_value(i);
        continue;
      }
      if (!dashed && EqualsIgnoreCase(t, "bearer")) {
        mask_next(i);
        continue;
      }
      if ((dashed && IsSecretRawKey(key)) || (!dashed && IsBareSecretWord(norm))) {
        mask_next(i);
        continue;
      }
      // aws configure set aws_secret_access_key SECRET (and other `set <secret key> value`).
      if (!dashed && i > 0 && tok(i - 1) == "set" && IsSecretKey(norm)) {
        mask_next(i);
        continue;
      }
      // curl -u user:pass, --user user:pass, --proxy-user user:pass.
      if (t == "-u" || t == "--user" || t == "-U" || t == "--proxy-user") {
        if (i + 1 < tokens.size()) {
          std::string_view next = tok(i + 1);
          size_t colon = next.find(':');
          if (colon != std::string_view::npos && colon + 1 < next.size()) {
            mask.emplace_back(tokens[i + 1].first + colon + 1, tokens[i + 1].second);
          }
        }
        continue;
      }
    } else if (t.rfind("--user=", 0) == 0 || t.rfind("--proxy-user=", 0) == 0) {
      size_t colon = t.find(':');
      if (colon != std::string_view::npos && colon + 1 < t.size()) mask.emplace_back(base + colon + 1, tokens[i].second);
    }
    // curl -uuser:pass (attached).
    if (t.size() > 2 && t[0] == '-' && t[1] == 'u' && t.find(':') != std::string_view::npos &&
        t.find("://") == std::string_view::npos) {
      size_t colon = t.find(':');
      if (colon + 1 < t.size()) mask.emplace_back(base + colon + 1, tokens[i].second);
    }
  }
}

}  // namespace

std::string CmdlinePrivacy::ScrubKnownSecrets(std::string_view cmdline) {
  std::vector<Range> mask;
  CollectMasks(cmdline, SpaceTokens(cmdline), &mask);
  std::string out;
  MergeAndMask(cmdline, &mask, &out);
  return out;
}

std::string CmdlinePrivacy::ScrubKnownSecretsInArgs(std::string_view args) {
  while (!args.empty() && args.back() == '\0') args.remove_suffix(1);
  std::string joined(args);
  std::vector<Range> arg_tokens;
  size_t begin = 0;
  for (size_t i = 0; i <= joined.size(); ++i) {
    if (i == joined.size() || joined[i] == '\0') {
      arg_tokens.emplace_back(begin, i);
      if (i < joined.size()) joined[i] = ' ';
      begin = i + 1;
    }
  }
  // The arguments (a value with spaces is masked whole), then their words (secrets inside
  // `sh -c "..."`): the union of both.
  std::vector<Range> mask;
  CollectMasks(joined, arg_tokens, &mask);
  CollectMasks(joined, SpaceTokens(joined), &mask);
  std::string out;
  MergeAndMask(joined, &mask, &out);
  return out;
}

std::string CmdlinePrivacy::ShortDigest(std::string_view data, std::string_view key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (key.empty()) {
    EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr);
  } else {
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data(), &len);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 6 && i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

std::string CmdlinePrivacy::Finish(std::string text, bool empty) const {
#if NODEPROC_HAVE_RE2
  // RE2 runs in linear time without recursion: no stack or time blow-up on a 100 KiB
  // classpath or a hostile pattern, so the whole line is searched at once.
  if (extra_ != nullptr) {
    for (const std::unique_ptr<re2::RE2>& re : extra_->res) {
      std::vector<Range> mask;
      const int groups = std::min(re->NumberOfCapturingGroups(), 1);
      re2::StringPiece input(text);
      re2::StringPiece m[2];
      size_t pos = 0;
      while (pos <= text.size() &&
             re->Match(input, pos, text.size(), re2::RE2::UNANCHORED, m, groups + 1)) {
        const re2::StringPiece& hit = groups == 1 && m[1].data() != nullptr ? m[1] : m[0];
        const size_t b = static_cast<size_t>(hit.data() - text.data());
        if (!hit.empty()) mask.emplace_back(b, b + hit.size());
        const size_t whole_end = static_cast<size_t>(m[0].data() - text.data()) + m[0].size();
        pos = m[0].empty() ? whole_end + 1 : whole_end;  // no endless loop on empty matches
      }
      if (mask.empty()) continue;
      std::string masked;
      MergeAndMask(text, &mask, &masked);
      text = std::move(masked);
    }
  }
#endif
  if (options_.anonymize && !empty) return ShortDigest(text, options_.hmac_key);
  return text;
}

std::string CmdlinePrivacy::Apply(std::string_view cmdline) const {
  return Finish(options_.scrub ? ScrubKnownSecrets(cmdline) : std::string(cmdline), cmdline.empty());
}

std::string CmdlinePrivacy::ApplyArgs(std::string_view args) const {
  while (!args.empty() && args.back() == '\0') args.remove_suffix(1);
  std::string text;
  if (options_.scrub) {
    text = ScrubKnownSecretsInArgs(args);
  } else {
    text.assign(args);
    std::replace(text.begin(), text.end(), '\0', ' ');
  }
  return Finish(std::move(text), args.empty());
}

}  // namespace nodeproc

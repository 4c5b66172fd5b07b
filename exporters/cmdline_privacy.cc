#include "exporters/cmdline_privacy.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

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

// scheme://user:pass@host: the password.
void MaskUrlCredentials(std::string_view tok, size_t base, std::vector<Range>* out) {
  size_t from = 0;
  while (true) {
    size_t scheme = tok.find("://", from);
    if (scheme == std::string_view::npos) return;
    size_t start = scheme + 3;
    size_t end = tok.find_first_of("/?#", start);
    if (end == std::string_view::npos) end = tok.size();
    std::string_view authority = tok.substr(start, end - start);
    size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      size_t colon = authority.find(':');
      if (colon != std::string_view::npos && colon < at && at > colon + 1) {
        out->emplace_back(base + start + colon + 1, base + start + at);
      }
    }
    from = end;
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
        IsSecretKey(Normalize(tok.substr(k, key_end - k)))) {
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

absl::StatusOr<CmdlinePrivacy> CmdlinePrivacy::Create(CmdlinePrivacyOptions options) {
  CmdlinePrivacy p;
  while (!options.hmac_key.empty() &&
         (options.hmac_key.back() == '\n' || options.hmac_key.back() == '\r')) {
    options.hmac_key.pop_back();
  }
  for (const std::string& pattern : options.extra_patterns) {
    try {
      p.extra_.emplace_back(pattern, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid secret pattern \"", pattern, "\": ", e.what()));
    }
  }
  p.options_ = std::move(options);
  return p;
}

std::string CmdlinePrivacy::ScrubKnownSecrets(std::string_view cmdline) {
  std::vector<std::pair<size_t, size_t>> tokens;  // [begin, end) split on spaces
  for (size_t i = 0; i < cmdline.size();) {
    size_t e = cmdline.find(' ', i);
    if (e == std::string_view::npos) e = cmdline.size();
    if (e > i) tokens.emplace_back(i, e);
    i = e + 1;
  }
  std::vector<Range> mask;
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
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view t = tok(i);
    const size_t base = tokens[i].first;
    if (t[0] != '-' && IsMysqlClient(Basename(t))) mysql = true;
    if (t[0] != '-' && Basename(t) == "sshpass") sshpass = true;
    MaskUrlCredentials(t, base, &mask);
    MaskKeyValues(t, base, &mask);
    MaskAwsAccessKeyIds(t, base, &mask);
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
      if ((dashed && IsSecretKey(norm)) || (!dashed && IsBareSecretWord(norm))) {
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
  std::string out;
  MergeAndMask(cmdline, &mask, &out);
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

std::string CmdlinePrivacy::Apply(std::string_view cmdline) const {
  std::string text = options_.scrub ? ScrubKnownSecrets(cmdline) : std::string(cmdline);
  // libstdc++'s std::regex recurses once per character it consumes (~300 bytes of stack
  // each): a 40 KiB Java classpath would overflow a thread's stack. Extra patterns therefore
  // run over overlapping windows of at most kWindow bytes; a match must fit in kOverlap to be
  // guaranteed to be seen across a window edge.
  constexpr size_t kWindow = 2048;
  constexpr size_t kOverlap = 512;
  for (const std::regex& re : extra_) {
    std::vector<Range> mask;
    for (size_t start = 0; start < text.size(); start += kWindow - kOverlap) {
      const size_t end = std::min(text.size(), start + kWindow);
      const auto flags = start == 0 ? std::regex_constants::match_default
                                    : std::regex_constants::match_prev_avail;
      for (auto it = std::cregex_iterator(text.data() + start, text.data() + end, re, flags);
           it != std::cregex_iterator(); ++it) {
        const std::cmatch& m = *it;
        const int group = m.size() > 1 && m[1].matched ? 1 : 0;
        if (m.length(group) == 0) continue;
        const size_t b = start + static_cast<size_t>(m.position(group));
        mask.emplace_back(b, b + static_cast<size_t>(m.length(group)));
      }
      if (end == text.size()) break;
    }
    if (mask.empty()) continue;
    std::string masked;
    MergeAndMask(text, &mask, &masked);
    text = std::move(masked);
  }
  if (options_.anonymize && !cmdline.empty()) return ShortDigest(text, options_.hmac_key);
  return text;
}

}  // namespace nodeproc

#include "collectors/proc_parsers.h"

#include <algorithm>

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace nodeproc {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Returns the next whitespace-separated token of *rest and advances past it (empty at end).
std::string_view NextToken(std::string_view* rest) {
  size_t i = 0;
  while (i < rest->size() && IsSpace((*rest)[i])) ++i;
  size_t j = i;
  while (j < rest->size() && !IsSpace((*rest)[j])) ++j;
  std::string_view token = rest->substr(i, j - i);
  rest->remove_prefix(j);
  return token;
}

// Splits "Key:\tvalue" lines: returns false at the end of *rest; lines without ':' are skipped.
bool NextKeyValue(std::string_view* rest, std::string_view* key, std::string_view* value) {
  while (!rest->empty()) {
    const size_t eol = rest->find('\n');
    const std::string_view line = rest->substr(0, eol);
    rest->remove_prefix(eol == std::string_view::npos ? rest->size() : eol + 1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    *key = line.substr(0, colon);
    *value = line.substr(colon + 1);
    return true;
  }
  return false;
}

// An unsigned decimal that must fit T (pid, ppid, flags, ... are never negative).
template <typename T>
bool ParseBounded(std::string_view token, T* out) {
  uint64_t v = 0;
  if (!ParseDecimal(token, &v) || v > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
    return false;
  }
  *out = static_cast<T>(v);
  return true;
}

absl::Status Invalid(std::string_view what, std::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(what), ": ", ToAbsl(detail)));
}

// The first whitespace-separated token after "Key:" on a status-style line.
std::string_view FirstValue(std::string_view line_rest) { return NextToken(&line_rest); }

}  // namespace

bool ParseDecimal(std::string_view token, uint64_t* out) {
  if (token.empty() || token.size() > 20) return false;
  uint64_t v = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

absl::StatusOr<ProcStat> ParseProcStat(std::string_view text) {
  ProcStat st;
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return Invalid("stat", "no (comm)");
  }
  std::string_view head = text.substr(0, open);
  if (!ParseBounded(NextToken(&head), &st.pid) || !NextToken(&head).empty()) {
    return Invalid("stat", "bad pid");
  }
  st.comm = text.substr(open + 1, close - open - 1);

  // Fields 3.. follow the comm; keep only those we need.
  std::string_view rest = text.substr(close + 1);
  std::string_view state = NextToken(&rest);
  if (state.size() != 1) return Invalid("stat", "bad state");
  st.state = state[0];
  int field = 4;
  for (; field <= 24; ++field) {
    std::string_view tok = NextToken(&rest);
    if (tok.empty()) return Invalid("stat", absl::StrCat("truncated at field ", field));
    bool ok = true;
    switch (field) {
      case 4: ok = ParseBounded(tok, &st.ppid); break;
      case 9: ok = ParseBounded(tok, &st.flags); break;
      case 14: ok = ParseDecimal(tok, &st.utime_ticks); break;
      case 15: ok = ParseDecimal(tok, &st.stime_ticks); break;
      case 20: ok = ParseBounded(tok, &st.num_threads); break;
      case 22: ok = ParseDecimal(tok, &st.start_ticks); break;
      case 23: ok = ParseDecimal(tok, &st.vsize_bytes); break;
      case 24: ok = ParseDecimal(tok, &st.rss_pages); break;
      default: break;  // not needed (some, like cutime, may be negative)
    }
    if (!ok) return Invalid("stat", absl::StrCat("bad field ", field));
  }
  return st;
}

absl::StatusOr<ProcStatus> ParseProcStatus(std::string_view text) {
  ProcStatus out;
  bool have_uid = false;
  std::string_view key, rest;
  while (NextKeyValue(&text, &key, &rest)) {
    const std::string_view value = FirstValue(rest);
    if (key == "Uid") {
      if (!ParseBounded(value, &out.real_uid)) return Invalid("status", "bad Uid");
      have_uid = true;
    } else if (key == "Threads") {
      uint32_t t = 0;
      if (!ParseBounded(value, &t)) return Invalid("status", "bad Threads");
      out.threads = t;
    } else if (key == "VmSize" || key == "VmRSS") {
      uint64_t kb = 0;
      if (!ParseDecimal(value, &kb) || kb > std::numeric_limits<uint64_t>::max() / 1024) {
        return Invalid("status", absl::StrCat("bad ", ToAbsl(key)));
      }
      (key == "VmSize" ? out.vm_size_bytes : out.vm_rss_bytes) = kb * 1024;
    }
  }
  if (!have_uid) return Invalid("status", "no Uid line");
  return out;
}

absl::StatusOr<ProcStatm> ParseProcStatm(std::string_view text) {
  ProcStatm out;
  if (!ParseDecimal(NextToken(&text), &out.size_pages) ||
      !ParseDecimal(NextToken(&text), &out.resident_pages) ||
      !ParseDecimal(NextToken(&text), &out.shared_pages)) {
    return Invalid("statm", "expected size resident shared");
  }
  return out;
}

absl::StatusOr<ProcIo> ParseProcIo(std::string_view text) {
  ProcIo out;
  bool have_read = false, have_write = false;
  std::string_view key, rest;
  while (NextKeyValue(&text, &key, &rest)) {
    if (key == "read_bytes") {
      if (!ParseDecimal(FirstValue(rest), &out.read_bytes)) {
        return Invalid("io", "bad read_bytes");
      }
      have_read = true;
    } else if (key == "write_bytes") {
      if (!ParseDecimal(FirstValue(rest), &out.write_bytes)) {
        return Invalid("io", "bad write_bytes");
      }
      have_write = true;
    }
  }
  if (!have_read || !have_write) return Invalid("io", "missing read_bytes or write_bytes");
  return out;
}

void JoinCmdline(std::string_view raw, std::string* out) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  out->assign(raw.data(), raw.size());
  for (char& c : *out) {
    if (c == '\0') c = ' ';
  }
}

void JoinTruncatedCmdline(std::string_view raw, std::string* out) {
  // Do not strip trailing NULs: the value goes on past them. Drop a UTF-8 sequence cut short.
  size_t end = raw.size();
  for (size_t back = 1; back <= 4 && back <= raw.size(); ++back) {
    const unsigned char c = static_cast<unsigned char>(raw[raw.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (need > back) end = raw.size() - back;
    break;
  }
  out->assign(raw.data(), end);
  for (char& c : *out) {
    if (c == '\0') c = ' ';
  }
  out->append(kCmdlineTruncatedMarker);
}

void ArgsFromRawCmdline(std::string_view raw, bool truncated, std::string* args) {
  if (truncated) {
    JoinTruncatedCmdline(raw, args);
  } else {
    JoinCmdline(raw, args);
  }
  const size_t n = std::min(args->size(), raw.size());
  for (size_t i = 0; i < n; ++i) {
    if (raw[i] == '\0') (*args)[i] = '\0';
  }
}

std::string JoinCmdline(std::string_view raw) {
  std::string out;
  JoinCmdline(raw, &out);
  return out;
}

absl::StatusOr<uint64_t> ParseBootTime(std::string_view proc_stat) {
  while (!proc_stat.empty()) {
    size_t eol = proc_stat.find('\n');
    std::string_view line = proc_stat.substr(0, eol);
    proc_stat.remove_prefix(eol == std::string_view::npos ? proc_stat.size() : eol + 1);
    std::string_view rest = line;
    if (NextToken(&rest) != "btime") continue;
    uint64_t btime = 0;
    if (!ParseDecimal(NextToken(&rest), &btime)) return Invalid("stat", "bad btime");
    return btime;
  }
  return absl::NotFoundError("stat: no btime line");
}

}  // namespace nodeproc

// The /proc parsers (collectors/proc_parsers.h) on arbitrary bytes: stat, status, statm, io,
// cmdline, /proc/stat btime and the strict decimal parser. Every parser sees the same input
// (the seeds are real files of each kind). Beyond "no crash, no UB, no leak", each checks what
// its contract promises.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "collectors/proc_parsers.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool Within(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto stat = nodeproc::ParseProcStat(text); stat.ok()) {
    // comm is a view into the input, between the first '(' and the last ')'.
    Check(Within(stat->comm, text));
    const size_t open = text.find('(');
    const size_t close = text.rfind(')');
    Check(open != std::string_view::npos && close != std::string_view::npos && open < close);
    Check(stat->comm == text.substr(open + 1, close - open - 1));
    Check(stat->kernel_thread() == ((stat->flags & nodeproc::kPfKthread) != 0));
  }

  if (auto status = nodeproc::ParseProcStatus(text); status.ok()) {
    Check(text.find("Uid:") != std::string_view::npos);
  }

  (void)nodeproc::ParseProcStatm(text);

  if (auto io = nodeproc::ParseProcIo(text); io.ok()) {
    Check(text.find("read_bytes") != std::string_view::npos);
    Check(text.find("write_bytes") != std::string_view::npos);
  }

  // cmdline: NULs become single spaces, trailing NULs go, nothing is added.
  std::string joined = nodeproc::JoinCmdline(text);
  Check(joined.size() <= text.size());
  Check(joined.find('\0') == std::string::npos);
  std::string reused = "previous content that must be replaced";
  nodeproc::JoinCmdline(text, &reused);
  Check(reused == joined);
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\0') --end;
  Check(joined.size() == end);
  for (size_t i = 0; i < end; ++i) Check(joined[i] == (text[i] == '\0' ? ' ' : text[i]));

  (void)nodeproc::ParseBootTime(text);

  // ParseDecimal: accepts the non-empty all-digit tokens whose value fits 64 bits (and may
  // refuse more than 20 digits, i.e. leading zeros, which /proc never writes).
  const std::string_view token = text.substr(0, text.find_first_of(" \n"));
  uint64_t value = 0;
  const bool ok = nodeproc::ParseDecimal(token, &value);
  bool digits = !token.empty();
  unsigned __int128 expect = 0;
  for (char c : token) {
    if (c < '0' || c > '9') {
      digits = false;
      break;
    }
    expect = expect * 10 + static_cast<unsigned>(c - '0');
    if (expect > UINT64_MAX) expect = static_cast<unsigned __int128>(UINT64_MAX) + 1;
  }
  const bool fits = digits && expect <= UINT64_MAX;
  if (ok) Check(fits && value == static_cast<uint64_t>(expect));
  if (fits && token.size() <= 20) Check(ok);
  return 0;
}

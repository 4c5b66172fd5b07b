// CSV writer round trip: a row rendered with a fuzzed name, command line and container fields
// must read back, through a strict RFC 4180 reader, as exactly the same fields (made valid
// UTF-8 by core/utf8.h's rule), be valid UTF-8, and be one record (embedded CR/LF quoted). Input: "<name>\0<cmdline>\0<container>\0<pod>" (missing
// parts are empty) + the numeric fields taken from the bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "core/process_record.h"
#include "core/utf8.h"
#include "exporters/csv_format.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// A strict RFC 4180 reader: returns the records of `text` (each "\n"-terminated, the writer's
// line ending), or nullopt on anything RFC 4180 does not allow (a quote inside an unquoted
// field, text after a closing quote, an unterminated quoted field, no final newline).
std::optional<std::vector<std::vector<std::string>>> ReadCsv(std::string_view text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      ++i;
      for (;;) {
        if (i >= text.size()) return std::nullopt;  // unterminated
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(text[i++]);
      }
      if (i >= text.size() || (text[i] != ',' && text[i] != '\n')) return std::nullopt;
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '\n') {
        if (text[i] == '"' || text[i] == '\r') return std::nullopt;
        field.push_back(text[i++]);
      }
      if (i >= text.size()) return std::nullopt;  // every record ends with "\n"
    }
    record.push_back(std::move(field));
    field.clear();
    if (text[i] == '\n') {
      records.push_back(std::move(record));
      record.clear();
    }
    ++i;
  }
  if (!record.empty()) return std::nullopt;
  return records;
}

std::string_view Part(std::string_view in, size_t index) {
  for (size_t k = 0; k < index; ++k) {
    size_t z = in.find('\0');
    if (z == std::string_view::npos) return {};
    in.remove_prefix(z + 1);
  }
  return in.substr(0, in.find('\0'));
}

uint64_t Bits(std::string_view in, size_t salt) {
  uint64_t h = 1469598103934665603ull ^ salt;
  for (unsigned char c : in) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  nodeproc::ProcessRecord r;
  r.name = std::string(Part(in, 0));
  r.cmdline = std::string(Part(in, 1));
  r.container.container_name = std::string(Part(in, 2));
  r.container.pod_name = std::string(Part(in, 3));
  r.container.pod_namespace = "ns,\"x\"";
  const uint64_t h = Bits(in, 1);
  r.pid = static_cast<int32_t>(h);
  r.ppid = static_cast<int32_t>(h >> 32);
  r.uid = static_cast<uint32_t>(h >> 7);
  r.vms_bytes = Bits(in, 2);
  r.rss_bytes = Bits(in, 3);
  r.threads = static_cast<uint32_t>(h >> 13);
  if (h & 1) r.fds = static_cast<uint32_t>(h >> 20);
  if (h & 2) r.read_bytes = Bits(in, 4);
  if (h & 4) r.write_bytes = Bits(in, 5);
  r.state = static_cast<nodeproc::ProcessState>(h % 10);
  // CPU values, including hostile doubles: NaN, infinities, negatives, huge.
  uint64_t cpu_bits = Bits(in, 6);
  double cpu;
  std::memcpy(&cpu, &cpu_bits, sizeof(cpu));
  if (h & 8) r.cpu.pct_5s = cpu;
  if (h & 16) r.cpu.pct_2m = static_cast<double>(static_cast<int64_t>(cpu_bits)) / 1e6;
  if (h & 32) r.cpu.pct_1h = 0.0049999;
  // As the probe computes it: btime + starttime ticks / CLK_TCK (any 64-bit tick count).
  r.start_time_unix = 1700000000.0 + static_cast<double>(Bits(in, 7)) / 100.0;
  const absl::Time ts = (h & 128) ? absl::FromUnixSeconds(static_cast<int64_t>(Bits(in, 8)) >> 24)
                                  : absl::FromUnixSeconds(1795000000);

  std::string out(nodeproc::CsvHeader());
  nodeproc::AppendCsvRow(r, ts, &out);
  Check(nodeproc::IsCleanUtf8(out));
  auto records = ReadCsv(out);
  Check(records.has_value());
  Check(records->size() == 2);
  const auto& header = (*records)[0];
  const auto& row = (*records)[1];
  Check(header.size() == nodeproc::kCsvColumns.size());
  Check(row.size() == header.size());
  for (size_t i = 0; i < header.size(); ++i) Check(header[i] == nodeproc::kCsvColumns[i]);
  Check(row[1] == std::to_string(r.pid));
  Check(row[2] == nodeproc::ToValidUtf8(r.name));
  Check(row[3] == nodeproc::ToValidUtf8(r.cmdline));
  Check(row[21] == nodeproc::ToValidUtf8(r.container.container_name));
  Check(row[20] == nodeproc::ToValidUtf8(r.container.pod_name));
  Check(row[19] == nodeproc::ToValidUtf8(r.container.pod_namespace));
  // Unknown stays empty; known is never empty.
  Check(row[14].empty() == !r.fds.has_value());
  Check(row[15].empty() == !r.read_bytes.has_value());
  Check(row[16].empty() == !r.write_bytes.has_value());

  // A field on its own round-trips too.
  std::string one;
  nodeproc::AppendCsvField(in, &one);
  one.push_back('\n');
  auto single = ReadCsv(one);
  Check(single.has_value() && single->size() == 1 && (*single)[0].size() == 1 &&
        (*single)[0][0] == nodeproc::ToValidUtf8(in));
  return 0;
}

#include "collectors/windows/win_convert.h"

namespace nodeproc::win {

double FileTimeToUnixSeconds(uint64_t filetime) {
  if (filetime <= kFileTimeUnixEpoch) return 0;
  const uint64_t since = filetime - kFileTimeUnixEpoch;
  // Whole seconds and the remainder apart, so that large values keep their 100-ns digits.
  return static_cast<double>(since / kHundredNsPerSecond) +
         static_cast<double>(since % kHundredNsPerSecond) / static_cast<double>(kHundredNsPerSecond);
}

double HundredNsToSeconds(uint64_t hundred_ns) {
  return static_cast<double>(hundred_ns / kHundredNsPerSecond) +
         static_cast<double>(hundred_ns % kHundredNsPerSecond) / static_cast<double>(kHundredNsPerSecond);
}

WalkStep ClassifyWalkResult(uint32_t error) {
  if (error == kErrorSuccess) return WalkStep::kItem;
  if (error == kErrorNoMoreItems) return WalkStep::kEnd;
  return WalkStep::kStop;
}

std::string Utf16ToUtf8(std::u16string_view text) {
  std::string out;
  out.reserve(text.size());
  auto put = [&out](uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const uint32_t u = text[i];
    if (u == 0) break;
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < text.size() && text[i + 1] >= 0xdc00 &&
        text[i + 1] <= 0xdfff) {
      put(0x10000 + ((u - 0xd800) << 10) + (static_cast<uint32_t>(text[i + 1]) - 0xdc00));
      ++i;
    } else if (u >= 0xd800 && u <= 0xdfff) {
      put(0xfffd);  // unpaired surrogate
    } else {
      put(u);
    }
  }
  return out;
}

ProcessRecord ToProcessRecord(const RawProcess& raw) {
  ProcessRecord r;
  r.pid = static_cast<int32_t>(raw.pid);
  r.ppid = static_cast<int32_t>(raw.ppid);
  r.name = raw.exe_name;
  r.kernel_thread = raw.pid == 0 || raw.pid == 4;
  if (!r.kernel_thread && raw.cmdline.has_value()) r.cmdline = *raw.cmdline;
  r.uid_known = false;
  r.state = ProcessState::kRunning;
  r.threads = raw.threads;
  r.rss_bytes = raw.working_set_bytes.value_or(0);
  r.vms_bytes = raw.private_bytes.value_or(0);
  // A live process always holds handles: 0 is a stub's answer (wine), i.e. unknown.
  if (raw.handle_count.has_value() && *raw.handle_count > 0) r.fds = *raw.handle_count;
  if (raw.read_transfer.has_value() && raw.write_transfer.has_value()) {
    r.read_bytes = *raw.read_transfer;
    r.write_bytes = *raw.write_transfer;
  }
  if (raw.creation_time.has_value()) {
    r.start_ticks = *raw.creation_time;
    r.start_time_unix = FileTimeToUnixSeconds(*raw.creation_time);
  }
  if (raw.kernel_time.has_value() && raw.user_time.has_value()) {
    r.cpu_seconds = HundredNsToSeconds(*raw.kernel_time) + HundredNsToSeconds(*raw.user_time);
  }
  return r;
}

}  // namespace nodeproc::win

#include "tests/support/ttar.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace nodeproc::testing {
namespace {

namespace fs = std::filesystem;

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool SafeRelative(std::string_view p) {
  if (p.empty() || p.front() == '/') return false;
  for (const auto& part : fs::path(std::string(p))) {
    if (part == "..") return false;
  }
  return true;
}

std::string Unescape(std::string data) {
  constexpr std::string_view kNul = "NULLBYTE";
  std::string out;
  out.reserve(data.size());
  for (size_t i = 0; i < data.size();) {
    if (std::string_view(data).substr(i, kNul.size()) == kNul) {
      out.push_back('\0');
      i += kNul.size();
    } else {
      out.push_back(data[i++]);
    }
  }
  return out;
}

absl::Status Error(size_t line, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("ttar line ", line + 1, ": ", std::string(what)));
}

}  // namespace

absl::Status ExtractTtarText(const std::string& text, const std::string& dest,
                             std::string_view only_under) {
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    const size_t eol = rest.find('\n');
    lines.push_back(rest.substr(0, eol));
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
  }
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", dest, ": ", ec.message()));

  fs::path last;                                     // target of the next "Mode:" line
  bool last_is_dir = false;
  std::vector<std::pair<fs::path, unsigned>> dir_modes;  // applied last: keep dirs writable
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.empty() || StartsWith(line, "#")) continue;
    if (StartsWith(line, "Directory: ")) {
      const std::string_view rel = line.substr(11);
      if (!SafeRelative(rel)) return Error(i, "unsafe path");
      if (!StartsWith(rel, only_under) && !StartsWith(only_under, rel)) {  // nor a parent
        last.clear();
        continue;
      }
      last = fs::path(dest) / std::string(rel);
      last_is_dir = true;
      fs::create_directories(last, ec);
      if (ec) return Error(i, ec.message());
    } else if (StartsWith(line, "Path: ")) {
      const std::string_view rel = line.substr(6);
      if (!SafeRelative(rel)) return Error(i, "unsafe path");
      const bool keep = StartsWith(rel, only_under);
      last = keep ? fs::path(dest) / std::string(rel) : fs::path();
      last_is_dir = false;
      const std::string_view next = i + 1 < lines.size() ? lines[i + 1] : std::string_view();
      if (!keep) {
        // Skip the record's body.
        if (StartsWith(next, "SymlinkTo: ")) {
          ++i;
        } else if (StartsWith(next, "Lines: ")) {
          size_t count = 0;
          try {
            count = std::stoul(std::string(next.substr(7)));
          } catch (...) {
            return Error(i + 1, "bad Lines count");
          }
          i += 1 + count;
        }
        continue;
      }
      fs::create_directories(last.parent_path(), ec);
      if (ec) return Error(i, ec.message());
      if (StartsWith(next, "SymlinkTo: ")) {
        fs::remove(last, ec);
        fs::create_symlink(std::string(next.substr(11)), last, ec);
        if (ec) return Error(i, ec.message());
        ++i;
        continue;
      }
      std::string data;
      if (StartsWith(next, "Lines: ")) {
        size_t count = 0;
        try {
          count = std::stoul(std::string(next.substr(7)));
        } catch (...) {
          return Error(i + 1, "bad Lines count");
        }
        if (i + 2 + count > lines.size()) return Error(i + 1, "truncated content");
        for (size_t k = 0; k < count; ++k) {
          if (k) data.push_back('\n');
          data.append(lines[i + 2 + k]);
        }
        if (data.size() >= 3 && data.compare(data.size() - 3, 3, "EOF") == 0) {
          data.resize(data.size() - 3);
        } else if (count > 0) {
          data.push_back('\n');
        }
        i += 1 + count;
      }
      std::ofstream out(last, std::ios::binary | std::ios::trunc);
      const std::string bytes = Unescape(std::move(data));
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!out) return Error(i, absl::StrCat("cannot write ", last.string()));
    } else if (StartsWith(line, "Mode: ")) {
      if (last.empty()) continue;  // a record filtered out by only_under
      unsigned mode = 0;
      try {
        mode = static_cast<unsigned>(std::stoul(std::string(line.substr(6)), nullptr, 8));
      } catch (...) {
        return Error(i, "bad Mode");
      }
      if (last_is_dir) {
        dir_modes.emplace_back(last, mode);
      } else if (::chmod(last.c_str(), mode) != 0) {
        return Error(i, absl::StrCat("chmod ", last.string()));
      }
    } else {
      return Error(i, absl::StrCat("unexpected line: ", std::string(line.substr(0, 60))));
    }
  }
  for (auto it = dir_modes.rbegin(); it != dir_modes.rend(); ++it) {
    ::chmod(it->first.c_str(), it->second);
  }
  return absl::OkStatus();
}

absl::Status ExtractTtar(const std::string& archive, const std::string& dest,
                         std::string_view only_under) {
  std::ifstream in(archive, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ttar archive ", archive));
  std::stringstream ss;
  ss << in.rdbuf();
  return ExtractTtarText(ss.str(), dest, only_under);
}

}  // namespace nodeproc::testing

// Command-line privacy (exporters/cmdline_privacy.h) on arbitrary command lines: the scrubber
// and the anonymiser never crash or hang (std::regex on long hostile input is the risk), a
// secret planted after arbitrary text is always scrubbed, and anonymised output is always the
// 12-hex-char digest. The argument-vector entry point (ApplyArgs) masks multi-word values
// whole.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "exporters/cmdline_privacy.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::string_view kMarker = "Zq9PlantedSecretMarker";

bool IsShortDigest(std::string_view s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

const nodeproc::CmdlinePrivacy& Scrubber() {
  static const auto* p = [] {
    nodeproc::CmdlinePrivacyOptions o;
    o.extra_patterns = {R"(--custom-field[ =](\S+))"};
    auto made = nodeproc::CmdlinePrivacy::Create(o);
    Check(made.ok());
    return new nodeproc::CmdlinePrivacy(*std::move(made));
  }();
  return *p;
}

const nodeproc::CmdlinePrivacy& Anonymiser() {
  static const auto* p = [] {
    nodeproc::CmdlinePrivacyOptions o;
    o.anonymize = true;
    o.hmac_key = "fuzz-key";
    auto made = nodeproc::CmdlinePrivacy::Create(o);
    Check(made.ok());
    return new nodeproc::CmdlinePrivacy(*std::move(made));
  }();
  return *p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  // 1. Anything goes through the built-in scrubber and the configured one.
  (void)nodeproc::CmdlinePrivacy::ScrubKnownSecrets(in);
  const std::string scrubbed = Scrubber().Apply(in);
  if (in.find(kMarker) == std::string_view::npos) {
    Check(scrubbed.find(kMarker) == std::string::npos);
  }

  // 2. A secret planted after arbitrary text (as its own argument) never survives.
  const size_t cut = in.find('\0');
  const std::string_view prefix = in.substr(0, cut);
  const std::string_view suffix = cut == std::string_view::npos ? std::string_view() : in.substr(cut + 1);
  if (prefix.find(kMarker) == std::string_view::npos && suffix.find(kMarker) == std::string_view::npos) {
    for (std::string_view form : {" --password=", " --password ", " --custom-field="}) {
      std::string cmd(prefix);
      cmd.append(form);
      cmd.append(kMarker);
      cmd.push_back(' ');
      cmd.append(suffix);
      Check(Scrubber().Apply(cmd).find(kMarker) == std::string::npos);
    }
  }

  // 3. Anonymised: the digest, or empty for an empty command line.
  const std::string anon = Anonymiser().Apply(in);
  Check(in.empty() ? anon.empty() : IsShortDigest(anon));
  Check(IsShortDigest(nodeproc::CmdlinePrivacy::ShortDigest(in, "")));

  // 4. The input as an argument vector (NUL-separated): scrubbing is total, the result is the
  // arguments joined by spaces, and a multi-word value planted after --password (or a key
  // that takes one) never survives, not even one of its words.
  const std::string args_out = Scrubber().ApplyArgs(in);
  Check(args_out.find('\0') == std::string::npos);
  if (in.find(kMarker) == std::string_view::npos) {
    Check(args_out.find(kMarker) == std::string::npos);
    for (std::string_view form : {"--password", "--db-pass", "token"}) {
      std::string argv(in);
      if (!argv.empty() && argv.back() != '\0') argv.push_back('\0');
      argv.append(form);
      argv.push_back('\0');
      argv.append("w1 ");
      argv.append(kMarker);
      argv.append(" w3");
      argv.push_back('\0');
      argv.append("tail");
      const std::string out = Scrubber().ApplyArgs(argv);
      Check(out.find(kMarker) == std::string::npos);
    }
  }
  return 0;
}

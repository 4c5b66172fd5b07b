#include "collectors/windows/toolhelp_probe.h"

// windows.h first: tlhelp32.h and psapi.h need its types.
#include <windows.h>
#include <psapi.h>
#include <tlhelp32.h>

#include <string>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace nodeproc::win {
namespace {

uint64_t Ft(const FILETIME& f) { return FileTimeValue(f.dwLowDateTime, f.dwHighDateTime); }

std::string Wide(const wchar_t* s, size_t chars) {
  return Utf16ToUtf8(std::u16string_view(reinterpret_cast<const char16_t*>(s), chars));
}

std::string Wide(const wchar_t* s) { return Wide(s, wcslen(s)); }

// A Win32 call failed: logged once per call and error, never per PID.
void NoteFailure(const char* call, DWORD err, uint32_t pid) {
  LogOnce(LogLevel::kWarning, absl::StrCat("win:", call, ":", err),
          "Windows call failed; its fields are unknown for such processes (logged once)",
          {{"call", call}, {"error", static_cast<uint64_t>(err)}, {"example_pid", static_cast<uint64_t>(pid)}});
}

struct UnicodeString {
  USHORT Length;  // bytes
  USHORT MaximumLength;
  PWSTR Buffer;
};

struct ProcessBasicInformation {
  LONG ExitStatus;
  void* PebBaseAddress;
  ULONG_PTR AffinityMask;
  LONG BasePriority;
  ULONG_PTR UniqueProcessId;
  ULONG_PTR InheritedFromUniqueProcessId;
};

using NtQueryInformationProcessFn = LONG(WINAPI*)(HANDLE, int, void*, ULONG, ULONG*);
constexpr int kProcessBasicInformation = 0;
constexpr int kProcessCommandLineInformation = 60;  // Windows 8.1+
constexpr LONG kStatusSuccess = 0;

NtQueryInformationProcessFn NtQuery() {
  static const NtQueryInformationProcessFn fn = [] {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll == nullptr
               ? nullptr
               : reinterpret_cast<NtQueryInformationProcessFn>(
                     reinterpret_cast<void*>(GetProcAddress(ntdll, "NtQueryInformationProcess")));
  }();
  return fn;
}

// Windows 8.1+: the command line without reading the other process's memory.
std::optional<std::string> CommandLineByQuery(HANDLE h, uint32_t pid) {
  NtQueryInformationProcessFn q = NtQuery();
  if (q == nullptr) return std::nullopt;
  std::vector<unsigned char> buf(4096);
  for (int attempt = 0; attempt < 3; ++attempt) {
    ULONG needed = 0;
    const LONG st = q(h, kProcessCommandLineInformation, buf.data(), static_cast<ULONG>(buf.size()), &needed);
    if (st == kStatusSuccess) {
      const auto* us = reinterpret_cast<const UnicodeString*>(buf.data());
      if (us->Buffer == nullptr) return std::string();
      return Wide(us->Buffer, us->Length / sizeof(wchar_t));
    }
    if (needed > buf.size() && needed < (1u << 20)) {
      buf.resize(needed);
      continue;
    }
    // STATUS_INVALID_INFO_CLASS before Windows 8.1 and under wine 8: the PEB is read instead.
    LogOnce(LogLevel::kInfo, absl::StrCat("win:cmdline-query:", static_cast<uint32_t>(st)),
            "NtQueryInformationProcess(ProcessCommandLineInformation) unsupported; reading command "
            "lines from the PEB instead (logged once)",
            {{"status", absl::StrCat("0x", absl::Hex(static_cast<uint32_t>(st), absl::kZeroPad8))},
             {"example_pid", static_cast<uint64_t>(pid)}});
    return std::nullopt;
  }
  return std::nullopt;
}

// Older systems: the PEB's RTL_USER_PROCESS_PARAMETERS.CommandLine (x64 offsets), read with
// ReadProcessMemory (needs PROCESS_VM_READ).
std::optional<std::string> CommandLineFromPeb(HANDLE h, uint32_t pid) {
  NtQueryInformationProcessFn q = NtQuery();
  if (q == nullptr) return std::nullopt;
  ProcessBasicInformation pbi{};
  ULONG len = 0;
  if (LONG st = q(h, kProcessBasicInformation, &pbi, sizeof(pbi), &len); st != kStatusSuccess) {
    NoteFailure("NtQueryInformationProcess(ProcessBasicInformation)", static_cast<DWORD>(st), pid);
    return std::nullopt;
  }
  if (pbi.PebBaseAddress == nullptr) return std::nullopt;
  constexpr size_t kPebProcessParameters = 0x20;
  constexpr size_t kParamsCommandLine = 0x70;
  void* params = nullptr;
  SIZE_T got = 0;
  if (!ReadProcessMemory(h, static_cast<char*>(pbi.PebBaseAddress) + kPebProcessParameters, &params,
                         sizeof(params), &got) || params == nullptr) {
    NoteFailure("ReadProcessMemory(PEB)", GetLastError(), pid);
    return std::nullopt;
  }
  UnicodeString us{};
  if (!ReadProcessMemory(h, static_cast<char*>(params) + kParamsCommandLine, &us, sizeof(us), &got)) {
    NoteFailure("ReadProcessMemory(ProcessParameters)", GetLastError(), pid);
    return std::nullopt;
  }
  if (us.Buffer == nullptr || us.Length == 0) return std::string();
  std::wstring text(us.Length / sizeof(wchar_t), L'\0');
  if (!ReadProcessMemory(h, us.Buffer, text.data(), us.Length, &got)) {
    NoteFailure("ReadProcessMemory(CommandLine)", GetLastError(), pid);
    return std::nullopt;
  }
  return Wide(text.data(), got / sizeof(wchar_t));
}

// Opens a process for querying: with VM read (for the PEB fallback) when allowed, else
// limited information only. Null with *gone set when the process no longer exists.
HANDLE OpenForQuery(uint32_t pid, bool* gone) {
  *gone = false;
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ, FALSE, pid);
  if (h != nullptr) return h;
  h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  if (h != nullptr) return h;
  const DWORD err = GetLastError();
  if (err == ERROR_INVALID_PARAMETER) {
    *gone = true;
  } else {
    NoteFailure("OpenProcess", err, pid);
  }
  return nullptr;
}

}  // namespace

bool ToolhelpProbe::UnderWine() {
  static const bool wine = [] {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
  }();
  return wine;
}

ToolhelpProbe::ToolhelpProbe(Options options) : options_(options) {
  if (UnderWine()) {
    LogOnce(LogLevel::kInfo, "win:wine",
            "running under wine: GetProcessIoCounters and GetProcessHandleCount answer stub zeros "
            "there, so read/write bytes and handle counts are reported unknown (logged once)");
  }
}

absl::StatusOr<std::map<uint32_t, ToolhelpProbe::Entry>> ToolhelpProbe::ProcessesByPID() {
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snap == INVALID_HANDLE_VALUE) {
    return absl::UnavailableError(absl::StrCat("CreateToolhelp32Snapshot: error ", GetLastError()));
  }
  std::map<uint32_t, Entry> out;
  PROCESSENTRY32W pe{};
  pe.dwSize = sizeof(pe);
  for (BOOL more = Process32FirstW(snap, &pe); more; more = Process32NextW(snap, &pe)) {
    Entry e;
    e.pid = pe.th32ProcessID;
    e.ppid = pe.th32ParentProcessID;
    e.threads = pe.cntThreads;
    e.exe_name = Wide(pe.szExeFile);
    out[e.pid] = std::move(e);
    pe.dwSize = sizeof(pe);
  }
  const DWORD err = GetLastError();
  CloseHandle(snap);
  if (err != ERROR_NO_MORE_FILES && out.empty()) {
    return absl::UnavailableError(absl::StrCat("Process32FirstW/NextW: error ", err));
  }
  return out;
}

std::optional<std::string> ToolhelpProbe::CommandLine(uint32_t pid, void* handle, uint64_t creation_time) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(pid);
    if (it != cache_.end() && it->second.creation_time == creation_time) return it->second.cmdline;
  }
  std::optional<std::string> cmdline;
  if (pid == GetCurrentProcessId()) {
    cmdline = Wide(GetCommandLineW());
  } else {
    cmdline = CommandLineByQuery(static_cast<HANDLE>(handle), pid);
    if (!cmdline.has_value()) cmdline = CommandLineFromPeb(static_cast<HANDLE>(handle), pid);
  }
  std::lock_guard<std::mutex> lock(mu_);
  cache_[pid] = CachedProcess{creation_time, cmdline};
  return cmdline;
}

std::vector<RawProcess> ToolhelpProbe::StatsForPIDs(const std::map<uint32_t, Entry>& processes, bool full) {
  std::vector<RawProcess> out;
  out.reserve(processes.size());
  for (const auto& [pid, e] : processes) {
    RawProcess raw;
    raw.pid = pid;
    raw.ppid = e.ppid;
    raw.threads = e.threads;
    raw.exe_name = e.exe_name;
    if (pid == 0) {  // System Idle Process: not a process that can be opened
      out.push_back(std::move(raw));
      continue;
    }
    bool gone = false;
    HANDLE h = OpenForQuery(pid, &gone);
    if (h == nullptr) {
      if (!gone) out.push_back(std::move(raw));  // listed but closed to us: unknown counters
      continue;
    }
    DWORD exit_code = 0;
    if (GetExitCodeProcess(h, &exit_code) && exit_code != STILL_ACTIVE) {
      CloseHandle(h);  // exited since the list: skipped whole
      continue;
    }
    FILETIME created{}, exited{}, kernel{}, user{};
    if (GetProcessTimes(h, &created, &exited, &kernel, &user)) {
      raw.creation_time = Ft(created);
      raw.kernel_time = Ft(kernel);
      raw.user_time = Ft(user);
    } else {
      NoteFailure("GetProcessTimes", GetLastError(), pid);
    }
    if (full) {
      PROCESS_MEMORY_COUNTERS_EX mem{};
      mem.cb = sizeof(mem);
      if (GetProcessMemoryInfo(h, reinterpret_cast<PROCESS_MEMORY_COUNTERS*>(&mem), sizeof(mem))) {
        raw.working_set_bytes = mem.WorkingSetSize;
        raw.private_bytes = mem.PrivateUsage != 0 ? mem.PrivateUsage : mem.PagefileUsage;
      } else {
        NoteFailure("GetProcessMemoryInfo", GetLastError(), pid);
      }
      DWORD handles = 0;
      if (UnderWine()) {
        // Stubs: wine's ProcessIoCounters is zero-filled ("FIXME: real data"), handle counts 0.
      } else if (GetProcessHandleCount(h, &handles)) {
        raw.handle_count = handles;
      } else {
        NoteFailure("GetProcessHandleCount", GetLastError(), pid);
      }
      IO_COUNTERS io{};
      if (UnderWine()) {
      } else if (GetProcessIoCounters(h, &io)) {
        raw.read_transfer = io.ReadTransferCount;
        raw.write_transfer = io.WriteTransferCount;
      } else {
        NoteFailure("GetProcessIoCounters", GetLastError(), pid);
      }
      raw.cmdline = CommandLine(pid, h, raw.creation_time.value_or(0));
    }
    CloseHandle(h);
    out.push_back(std::move(raw));
  }
  return out;
}

absl::Status ToolhelpProbe::Scan(std::vector<ProcessRecord>* out) {
  std::lock_guard<std::mutex> scan_lock(scan_mu_);
  auto procs = ProcessesByPID();
  if (!procs.ok()) return procs.status();
  const std::vector<RawProcess> raws = StatsForPIDs(*procs, /*full=*/true);
  out->clear();
  for (const RawProcess& raw : raws) out->push_back(ToProcessRecord(raw));

  std::map<uint32_t, PssProcessDetail> pss;
  if (options_.pss_detail) {
    if (!PssAvailable()) {
      LogOnce(LogLevel::kWarning, "win:pss-unavailable",
              "PSS (PssCaptureSnapshot) unavailable: Toolhelp-only data, no per-process handle and thread detail");
    } else {
      PssOptions o;
      o.handles = true;
      o.threads = true;
      for (ProcessRecord& r : *out) {
        if (r.kernel_thread) continue;
        auto d = CapturePssDetail(static_cast<uint32_t>(r.pid), o);
        if (!d.ok()) {
          if (absl::IsUnimplemented(d.status())) {
            LogOnce(LogLevel::kWarning, "win:pss-unavailable",
                    "PSS (PssCaptureSnapshot) unavailable: Toolhelp-only data, no per-process handle and thread detail",
                    {{"error", std::string(d.status().message())}});
            break;
          }
          LogOnce(LogLevel::kWarning, absl::StrCat("win:pss:", static_cast<int>(d.status().code())),
                  "PSS capture failed for some processes; Toolhelp data kept (logged once)",
                  {{"error", std::string(d.status().message())}});
          continue;
        }
        pss[static_cast<uint32_t>(r.pid)] = std::move(*d);
      }
    }
  }

  // Forget cached command lines of processes that are gone.
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (procs->count(it->first) == 0) {
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
  pss_ = std::move(pss);
  return absl::OkStatus();
}

absl::Status ToolhelpProbe::SampleCpu(std::vector<CpuSample>* out) {
  auto procs = ProcessesByPID();
  if (!procs.ok()) return procs.status();
  const std::vector<RawProcess> raws = StatsForPIDs(*procs, /*full=*/false);
  out->clear();
  for (const RawProcess& raw : raws) {
    if (!raw.creation_time.has_value()) continue;  // no identity, no CPU: nothing to track
    const ProcessRecord r = ToProcessRecord(raw);
    CpuSample s;
    s.pid = r.pid;
    s.start_ticks = r.start_ticks;
    s.start_time_unix = r.start_time_unix;
    s.cpu_seconds = r.cpu_seconds;
    out->push_back(s);
  }
  return absl::OkStatus();
}

std::map<uint32_t, PssProcessDetail> ToolhelpProbe::PssDetails() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pss_;
}

size_t ToolhelpProbe::CachedCommandLines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

}  // namespace nodeproc::win

#include "collectors/windows/pss_snapshot.h"

#include <windows.h>

#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "collectors/windows/win_convert.h"

namespace nodeproc::win {
namespace {

// Debian's mingw-w64 has no processsnapshot.h: the types below are declared from the
// documented Windows SDK layout (processsnapshot.h, Windows 8.1), and the functions are looked
// up in kernel32 at run time.
using HPSS = HANDLE;
using HPSSWALK = HANDLE;

constexpr DWORD kPssCaptureHandles = 0x00000004;
constexpr DWORD kPssCaptureHandleNameInformation = 0x00000008;
constexpr DWORD kPssCaptureHandleBasicInformation = 0x00000010;
constexpr DWORD kPssCaptureThreads = 0x00000080;

constexpr int kPssQueryProcessInformation = 0;
constexpr int kPssQueryHandleInformation = 4;
constexpr int kPssQueryThreadInformation = 5;
constexpr int kPssWalkHandles = 2;
constexpr int kPssWalkThreads = 3;

struct PssProcessInformation {
  DWORD ExitStatus;
  void* PebBaseAddress;
  ULONG_PTR AffinityMask;
  LONG BasePriority;
  DWORD ProcessId;
  DWORD ParentProcessId;
  DWORD Flags;
  FILETIME CreateTime;
  FILETIME ExitTime;
  FILETIME KernelTime;
  FILETIME UserTime;
  DWORD PriorityClass;
  ULONG_PTR PeakVirtualSize;
  ULONG_PTR VirtualSize;
  DWORD PageFaultCount;
  ULONG_PTR PeakWorkingSetSize;
  ULONG_PTR WorkingSetSize;
  ULONG_PTR QuotaPeakPagedPoolUsage;
  ULONG_PTR QuotaPagedPoolUsage;
  ULONG_PTR QuotaPeakNonPagedPoolUsage;
  ULONG_PTR QuotaNonPagedPoolUsage;
  ULONG_PTR PagefileUsage;
  ULONG_PTR PeakPagefileUsage;
  ULONG_PTR PrivateUsage;
  DWORD ExecuteFlags;
  wchar_t ImageFileName[MAX_PATH];
};

struct PssHandleInformation {
  DWORD HandlesCaptured;
};

struct PssThreadInformation {
  DWORD ThreadsCaptured;
  DWORD ContextLength;
};

struct PssHandleEntry {
  HANDLE Handle;
  DWORD Flags;
  DWORD ObjectType;
  FILETIME CaptureTime;
  DWORD Attributes;
  DWORD GrantedAccess;
  DWORD HandleCount;
  DWORD PointerCount;
  DWORD PagedPoolCharge;
  DWORD NonPagedPoolCharge;
  LPCWSTR TypeName;
  WORD TypeNameLength;  // bytes
  LPCWSTR ObjectName;
  WORD ObjectNameLength;  // bytes
  union {
    struct { DWORD ExitStatus; void* PebBaseAddress; ULONG_PTR AffinityMask; LONG BasePriority; DWORD ProcessId; DWORD ParentProcessId; DWORD Flags; } Process;
    struct { DWORD ExitStatus; void* TebBaseAddress; DWORD ProcessId; DWORD ThreadId; ULONG_PTR AffinityMask; int Priority; int BasePriority; void* Win32StartAddress; } Thread;
    struct { LONG CurrentCount; BOOL Abandoned; DWORD OwnerProcessId; DWORD OwnerThreadId; } Mutant;
    struct { BOOL ManualReset; BOOL Signaled; } Event;
    struct { void* BaseAddress; DWORD AllocationAttributes; LARGE_INTEGER MaximumSize; } Section;
    struct { LONG CurrentCount; LONG MaximumCount; } Semaphore;
  } TypeSpecificInformation;
};

struct PssThreadEntry {
  DWORD ExitStatus;
  void* TebBaseAddress;
  DWORD ProcessId;
  DWORD ThreadId;
  ULONG_PTR AffinityMask;
  int Priority;
  int BasePriority;
  void* LastSyscallFirstArgument;
  WORD LastSyscallNumber;
  FILETIME CreateTime;
  FILETIME ExitTime;
  FILETIME KernelTime;
  FILETIME UserTime;
  void* Win32StartAddress;
  FILETIME CaptureTime;
  DWORD Flags;
  WORD SuspendCount;
  WORD SizeOfContextRecord;
  void* ContextRecord;
};

using PssCaptureSnapshotFn = DWORD(WINAPI*)(HANDLE, DWORD, DWORD, HPSS*);
using PssFreeSnapshotFn = DWORD(WINAPI*)(HANDLE, HPSS);
using PssQuerySnapshotFn = DWORD(WINAPI*)(HPSS, int, void*, DWORD);
using PssWalkSnapshotFn = DWORD(WINAPI*)(HPSS, int, HPSSWALK, void*, DWORD);
using PssWalkMarkerCreateFn = DWORD(WINAPI*)(void*, HPSSWALK*);
using PssWalkMarkerFreeFn = DWORD(WINAPI*)(HPSSWALK);

struct PssApi {
  PssCaptureSnapshotFn capture = nullptr;
  PssFreeSnapshotFn free_snapshot = nullptr;
  PssQuerySnapshotFn query = nullptr;
  PssWalkSnapshotFn walk = nullptr;
  PssWalkMarkerCreateFn marker_create = nullptr;
  PssWalkMarkerFreeFn marker_free = nullptr;
  bool ok() const {
    return capture && free_snapshot && query && walk && marker_create && marker_free;
  }
};

template <typename Fn>
Fn Lookup(HMODULE m, const char* name) {
  return m == nullptr ? nullptr : reinterpret_cast<Fn>(reinterpret_cast<void*>(GetProcAddress(m, name)));
}

const PssApi& Api() {
  static const PssApi api = [] {
    PssApi a;
    HMODULE k32 = GetModuleHandleW(L"kernel32.dll");
    a.capture = Lookup<PssCaptureSnapshotFn>(k32, "PssCaptureSnapshot");
    a.free_snapshot = Lookup<PssFreeSnapshotFn>(k32, "PssFreeSnapshot");
    a.query = Lookup<PssQuerySnapshotFn>(k32, "PssQuerySnapshot");
    a.walk = Lookup<PssWalkSnapshotFn>(k32, "PssWalkSnapshot");
    a.marker_create = Lookup<PssWalkMarkerCreateFn>(k32, "PssWalkMarkerCreate");
    a.marker_free = Lookup<PssWalkMarkerFreeFn>(k32, "PssWalkMarkerFree");
    return a;
  }();
  return api;
}

uint64_t Ft(const FILETIME& f) { return FileTimeValue(f.dwLowDateTime, f.dwHighDateTime); }

std::string Wide(const wchar_t* s, size_t chars) {
  if (s == nullptr) return std::string();
  return Utf16ToUtf8(std::u16string_view(reinterpret_cast<const char16_t*>(s), chars));
}

// Closes what it holds on every path out of CapturePssDetail.
struct Held {
  const PssApi& api;
  HANDLE process = nullptr;
  HPSS snapshot = nullptr;
  HPSSWALK marker = nullptr;
  ~Held() {
    if (marker != nullptr) api.marker_free(marker);
    if (snapshot != nullptr) api.free_snapshot(GetCurrentProcess(), snapshot);
    if (process != nullptr) CloseHandle(process);
  }
};

constexpr size_t kMaxWalkItems = 1u << 20;  // a bound against a walk that never ends

}  // namespace

bool PssAvailable() { return Api().ok(); }

absl::StatusOr<PssProcessDetail> CapturePssDetail(uint32_t pid, const PssOptions& options) {
  const PssApi& api = Api();
  if (!api.ok()) return absl::UnimplementedError("PSS (PssCaptureSnapshot) is not available");
  Held held{api};
  held.process = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ | PROCESS_DUP_HANDLE,
                             FALSE, pid);
  if (held.process == nullptr) {
    const DWORD err = GetLastError();
    if (err == ERROR_INVALID_PARAMETER) return absl::NotFoundError(absl::StrCat("process ", pid, " is gone"));
    return absl::PermissionDeniedError(absl::StrCat("OpenProcess(", pid, "): error ", err));
  }
  DWORD flags = 0;
  if (options.handles) {
    flags |= kPssCaptureHandles | kPssCaptureHandleNameInformation | kPssCaptureHandleBasicInformation;
  }
  if (options.threads) flags |= kPssCaptureThreads;
  if (DWORD err = api.capture(held.process, flags, 0, &held.snapshot); err != ERROR_SUCCESS) {
    held.snapshot = nullptr;
    if (err == ERROR_CALL_NOT_IMPLEMENTED || err == ERROR_NOT_SUPPORTED) {  // exported stub (wine)
      return absl::UnimplementedError(absl::StrCat("PssCaptureSnapshot: error ", err, " (not implemented)"));
    }
    return absl::InternalError(absl::StrCat("PssCaptureSnapshot(", pid, "): error ", err));
  }

  PssProcessDetail d;
  PssProcessInformation info{};
  if (DWORD err = api.query(held.snapshot, kPssQueryProcessInformation, &info, sizeof(info));
      err != ERROR_SUCCESS) {
    return absl::InternalError(absl::StrCat("PssQuerySnapshot(process, ", pid, "): error ", err));
  }
  d.pid = info.ProcessId;
  d.ppid = info.ParentProcessId;
  d.create_time_unix = FileTimeToUnixSeconds(Ft(info.CreateTime));
  d.cpu_seconds = HundredNsToSeconds(Ft(info.KernelTime)) + HundredNsToSeconds(Ft(info.UserTime));
  d.working_set_bytes = info.WorkingSetSize;
  d.private_bytes = info.PrivateUsage;
  d.image_file_name = Wide(info.ImageFileName, MAX_PATH);

  if (options.handles) {
    PssHandleInformation hi{};
    if (api.query(held.snapshot, kPssQueryHandleInformation, &hi, sizeof(hi)) == ERROR_SUCCESS) {
      d.handles_captured = hi.HandlesCaptured;
    }
  }
  if (options.threads) {
    PssThreadInformation ti{};
    if (api.query(held.snapshot, kPssQueryThreadInformation, &ti, sizeof(ti)) == ERROR_SUCCESS) {
      d.threads_captured = ti.ThreadsCaptured;
    }
  }
  if (!options.handles && !options.threads) return d;

  if (DWORD err = api.marker_create(nullptr, &held.marker); err != ERROR_SUCCESS) {
    held.marker = nullptr;
    return absl::InternalError(absl::StrCat("PssWalkMarkerCreate: error ", err));
  }
  if (options.handles) {
    // Each walk starts from a fresh marker (a marker is a position in one walk).
    PssHandleEntry e{};
    const WalkOutcome w = RunWalk(
        [&] {
          const DWORD err = api.walk(held.snapshot, kPssWalkHandles, held.marker, &e, sizeof(e));
          if (err == ERROR_SUCCESS) {
            std::string type = Wide(e.TypeName, e.TypeNameLength / sizeof(wchar_t));
            ++d.handle_types[type.empty() ? std::string("(unnamed)") : type];
          }
          return static_cast<uint32_t>(err);
        },
        kMaxWalkItems);
    d.handle_walk_complete = w.complete;
    if (!w.complete) d.walk_error = w.error;
  }
  if (options.threads) {
    api.marker_free(held.marker);
    held.marker = nullptr;
    if (DWORD err = api.marker_create(nullptr, &held.marker); err != ERROR_SUCCESS) {
      held.marker = nullptr;
      return absl::InternalError(absl::StrCat("PssWalkMarkerCreate: error ", err));
    }
    PssThreadEntry e{};
    const WalkOutcome w = RunWalk(
        [&] {
          const DWORD err = api.walk(held.snapshot, kPssWalkThreads, held.marker, &e, sizeof(e));
          if (err == ERROR_SUCCESS) {
            PssThreadDetail t;
            t.thread_id = e.ThreadId;
            t.cpu_seconds = HundredNsToSeconds(Ft(e.KernelTime)) + HundredNsToSeconds(Ft(e.UserTime));
            t.create_time_unix = FileTimeToUnixSeconds(Ft(e.CreateTime));
            t.priority = e.Priority;
            t.suspend_count = e.SuspendCount;
            d.threads.push_back(t);
          }
          return static_cast<uint32_t>(err);
        },
        kMaxWalkItems);
    d.thread_walk_complete = w.complete;
    if (!w.complete && d.walk_error == 0) d.walk_error = w.error;
  }
  return d;
}

}  // namespace nodeproc::win

#pragma once
// The scheduler state of a process, as the CSV contract names it.
#include <cstdint>
#include <string_view>

namespace nodeproc {

enum class ProcessState : uint8_t {
  kUnknown,
  kRunning,
  kSleeping,
  kDiskSleep,
  kStopped,
  kTracingStop,
  kZombie,
  kDead,
  kIdle,
};

// The contract's status word: running, sleeping, disk-sleep, stopped, tracing-stop, zombie,
// dead, idle ("unknown" for anything else).
std::string_view ProcessStateName(ProcessState state);

// Maps the state letter of /proc/<pid>/stat (R, S, D, T, t, Z, X, x, I, ...).
ProcessState ProcessStateFromLetter(char letter);

}  // namespace nodeproc

#include "core/process_state.h"

namespace nodeproc {

std::string_view ProcessStateName(ProcessState state) {
  switch (state) {
    case ProcessState::kRunning: return "running";
    case ProcessState::kSleeping: return "sleeping";
    case ProcessState::kDiskSleep: return "disk-sleep";
    case ProcessState::kStopped: return "stopped";
    case ProcessState::kTracingStop: return "tracing-stop";
    case ProcessState::kZombie: return "zombie";
    case ProcessState::kDead: return "dead";
    case ProcessState::kIdle: return "idle";
    case ProcessState::kUnknown: break;
  }
  return "unknown";
}

ProcessState ProcessStateFromLetter(char letter) {
  switch (letter) {
    case 'R': return ProcessState::kRunning;
    case 'S': return ProcessState::kSleeping;
    case 'D': return ProcessState::kDiskSleep;
    case 'T': return ProcessState::kStopped;
    case 't': return ProcessState::kTracingStop;
    case 'Z': return ProcessState::kZombie;
    case 'X':
    case 'x': return ProcessState::kDead;
    case 'I': return ProcessState::kIdle;
    default: return ProcessState::kUnknown;
  }
}

}  // namespace nodeproc

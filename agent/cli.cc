#include "agent/cli.h"

#include <cstdio>
#include <cstring>

namespace nodeproc {

int RunCli(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "version") == 0) {
    std::printf("nodeproc %s (commit %s)\n", NODEPROC_VERSION, NODEPROC_GIT_COMMIT);
    return 0;
  }
  std::fprintf(stderr, "usage: nodeproc run|snapshot|version [flags]\n");
  return 2;
}

}  // namespace nodeproc

#pragma once
// The command line: `nodeproc run|snapshot|version [flags]`.

namespace nodeproc {

int RunCli(int argc, char** argv);

}  // namespace nodeproc

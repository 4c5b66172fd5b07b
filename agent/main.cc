#include "agent/cli.h"

int main(int argc, char** argv) { return nodeproc::RunCli(argc, argv); }

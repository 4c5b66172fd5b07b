// Forks N idle children (N <= 5000) for bench/compare.sh, writes their PIDs (one a line) to
// PIDFILE, then prints "ready" and waits. On SIGTERM/SIGINT/SIGHUP, or when stdin closes,
// it kills every child by PID and exits. Children also die with the parent (PDEATHSIG).
//
//   spawn_sleepers N PIDFILE
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kMaxChildren = 5000 };
static pid_t children[kMaxChildren];
static int count;
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void kill_all(void) {
  for (int i = 0; i < count; ++i) kill(children[i], SIGKILL);
  for (int i = 0; i < count; ++i) waitpid(children[i], NULL, 0);
  count = 0;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s N PIDFILE\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]);
  if (n < 0 || n > kMaxChildren) {
    fprintf(stderr, "N must be in [0, %d]\n", kMaxChildren);
    return 2;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  pid_t parent = getpid();
  for (int i = 0; i < n && !stop; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      kill_all();
      return 1;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(0);
      signal(SIGTERM, SIG_DFL);
      signal(SIGINT, SIG_DFL);
      signal(SIGHUP, SIG_DFL);
      for (;;) pause();
    }
    children[count++] = pid;
  }
  FILE* f = fopen(argv[2], "w");
  if (f != NULL) {
    for (int i = 0; i < count; ++i) fprintf(f, "%d\n", (int)children[i]);
    fclose(f);
  }
  printf("ready %d\n", count);
  fflush(stdout);
  // Wait until told to stop or stdin closes (the script died).
  char c;
  while (!stop) {
    ssize_t r = read(0, &c, 1);
    if (r == 0) break;
  }
  kill_all();
  return 0;
}

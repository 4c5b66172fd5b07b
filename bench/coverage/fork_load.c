// Fork-heavy load for bench/coverage/run.py: RATE short processes per second, each burning a
// random 5-20 ms of CPU (MIN_MS..MAX_MS) and exiting, plus one steady process burning STEADY%
// of a core, for SECONDS. Prints the CPU of the reaped children (wait4 rusage) at the end.
//
//   fork_load RATE MIN_MS MAX_MS STEADY_PERCENT SECONDS
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void burn(double seconds) {
  const double until = now(CLOCK_PROCESS_CPUTIME_ID) + seconds;
  volatile unsigned long x = 0;
  while (now(CLOCK_PROCESS_CPUTIME_ID) < until) x++;
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s RATE MIN_MS MAX_MS STEADY_PERCENT SECONDS\n", argv[0]);
    return 2;
  }
  const double rate = atof(argv[1]), min_ms = atof(argv[2]), max_ms = atof(argv[3]);
  const double steady = atof(argv[4]) / 100.0, seconds = atof(argv[5]);
  const pid_t steady_pid = fork();
  if (steady_pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) {  // duty cycle over 100 ms periods
      burn(0.1 * steady);
      usleep((useconds_t)(100000 * (1 - steady)));
    }
  }
  srand(42);
  const double start = now(CLOCK_MONOTONIC);
  double next = start;
  long spawned = 0;
  double children_cpu = 0;
  while (now(CLOCK_MONOTONIC) - start < seconds) {
    const double ms = min_ms + (max_ms - min_ms) * (rand() / (double)RAND_MAX);
    if (fork() == 0) {
      burn(ms / 1000.0);
      _exit(0);
    }
    spawned++;
    next += 1.0 / rate;
    struct rusage ru;
    pid_t p;
    while ((p = wait4(-1, NULL, WNOHANG, &ru)) > 0) {
      if (p == steady_pid) continue;
      children_cpu += ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    }
    const double wait = next - now(CLOCK_MONOTONIC);
    if (wait > 0) usleep((useconds_t)(wait * 1e6));
  }
  kill(steady_pid, SIGKILL);
  struct rusage ru;
  pid_t p;
  while ((p = wait4(-1, NULL, 0, &ru)) > 0) {
    if (p == steady_pid) continue;
    children_cpu += ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  }
  printf("spawned=%ld short_cpu=%.3f\n", spawned, children_cpu);
  return 0;
}

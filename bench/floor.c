// The physical floor of a process scan: for every PID, open+read+close of stat, statm,
// status and io, and a readdir of fd. Nothing is parsed. Used by bench/compare.sh as the
// reference cost nodeproc's full scan is compared with.
//
//   floor [--proc-root=/proc] [--repeat=N]
// Prints "pids=<n> fds=<n> bytes=<n>" and, with --repeat, the median in-process scan time
// (wall and CPU: on a shared machine the CPU time is the steadier figure).
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char buf[65536];

static long read_file(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  long total = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) total += n;
  close(fd);
  return total;
}

static void scan(const char* root, long* pids, long* fds, long* bytes) {
  static const char* const kFiles[] = {"stat", "statm", "status", "io"};
  char path[512];
  DIR* proc = opendir(root);
  if (proc == NULL) {
    perror(root);
    exit(1);
  }
  struct dirent* e;
  while ((e = readdir(proc)) != NULL) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    ++*pids;
    for (size_t i = 0; i < sizeof kFiles / sizeof kFiles[0]; ++i) {
      snprintf(path, sizeof path, "%s/%s/%s", root, e->d_name, kFiles[i]);
      *bytes += read_file(path);
    }
    snprintf(path, sizeof path, "%s/%s/fd", root, e->d_name);
    DIR* fd = opendir(path);
    if (fd == NULL) continue;
    struct dirent* f;
    while ((f = readdir(fd)) != NULL) {
      if (f->d_name[0] != '.') ++*fds;
    }
    closedir(fd);
  }
  closedir(proc);
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  const char* root = "/proc";
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "--proc-root=", 12) == 0) {
      root = argv[i] + 12;
    } else if (strncmp(argv[i], "--repeat=", 9) == 0) {
      repeat = atoi(argv[i] + 9);
      if (repeat < 1 || repeat > 100000) repeat = 1;
    } else {
      fprintf(stderr, "usage: %s [--proc-root=DIR] [--repeat=N]\n", argv[0]);
      return 2;
    }
  }
  double* times = calloc((size_t)repeat, sizeof(double));
  double* cpu = calloc((size_t)repeat, sizeof(double));
  long pids = 0, fds = 0, bytes = 0;
  for (int r = 0; r < repeat; ++r) {
    struct timespec a, b, ca, cb;
    pids = fds = bytes = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
    scan(root, &pids, &fds, &bytes);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
    clock_gettime(CLOCK_MONOTONIC, &b);
    times[r] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    cpu[r] = (double)(cb.tv_sec - ca.tv_sec) * 1e3 + (double)(cb.tv_nsec - ca.tv_nsec) / 1e6;
  }
  qsort(times, (size_t)repeat, sizeof(double), cmp_double);
  qsort(cpu, (size_t)repeat, sizeof(double), cmp_double);
  printf("pids=%ld fds=%ld bytes=%ld", pids, fds, bytes);
  if (repeat > 1) printf(" median_ms=%.3f median_cpu_ms=%.3f", times[repeat / 2], cpu[repeat / 2]);
  printf("\n");
  free(times);
  free(cpu);
  return 0;
}

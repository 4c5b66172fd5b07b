/* Binary records the BPF programs (nodeproc.bpf.c) hand to user space (bpf_probe.cc).
 * Plain C, fixed layout (every field naturally aligned, no implicit padding): included by the
 * BPF object and by C++. Raw kernel values; the conversions to what /proc prints (start ticks,
 * the kernel's cputime_adjust, the state letter) are done in user space (task_convert.h). */
#ifndef NODEPROC_COLLECTORS_BPF_RECORDS_H_
#define NODEPROC_COLLECTORS_BPF_RECORDS_H_

#ifdef __bpf__
typedef unsigned int np_u32;
typedef unsigned long long np_u64;
#else
#include <stdint.h>
typedef uint32_t np_u32;
typedef uint64_t np_u64;
#endif

#define NP_COMM_LEN 16
#define NP_CGROUP_LEVELS 8      /* path components kept (innermost first); deeper paths are cut */
#define NP_CGROUP_NAME_LEN 128  /* bytes per component, NUL included */

/* Record kinds (first field of every record). */
#define NP_REC_HEADER 1
#define NP_REC_TASK 2
#define NP_REC_EXIT 3

/* np_task.flags */
#define NP_HAS_MM 0x1           /* the leader has an address space (not a zombie / kthread) */
#define NP_HAS_FILES 0x2        /* the leader has a file table */
#define NP_THREADS_CUT 0x4      /* the thread walk stopped at its bound: CPU / io are partial */
#define NP_CGROUP_V1 0x8        /* cgroup: the v1 memory hierarchy (the v2 one was the root) */
#define NP_CGROUP_CUT 0x10      /* cgroup path deeper than NP_CGROUP_LEVELS */

/* First record of an iterator pass: who reads (to check the pid namespace) and the clock. */
struct np_header {
  np_u32 kind;                  /* NP_REC_HEADER */
  np_u32 reader_tgid;           /* global tgid of the reading process */
  np_u64 boot_ns;               /* bpf_ktime_get_boot_ns() at the start of the pass */
  np_u32 reader_pid_level;      /* depth of the reader's PID namespace (0: the host's) */
  np_u32 reserved;
};

/* CPU and I/O of a whole thread group, summed the way /proc/<pid>/stat and io do: the
 * signal_struct totals (threads that are gone) plus every live thread. */
struct np_group_sum {
  np_u64 utime_ns;              /* tick-sampled user time */
  np_u64 stime_ns;              /* tick-sampled system time */
  np_u64 runtime_ns;            /* precise: sum_exec_runtime */
  np_u64 prev_utime_ns;         /* signal->prev_cputime: what /proc last printed (monotonic) */
  np_u64 prev_stime_ns;
  np_u64 read_bytes;
  np_u64 write_bytes;
};

/* One thread group (its leader), from the task iterator. */
struct np_task {
  np_u32 kind;                  /* NP_REC_TASK */
  np_u32 tgid;
  np_u32 ppid;                  /* real_parent's tgid */
  np_u32 uid;                   /* real uid */
  np_u32 state;                 /* leader's __state */
  np_u32 exit_state;            /* leader's exit_state */
  np_u32 task_flags;            /* leader's PF_* flags */
  np_u32 flags;                 /* NP_* */
  np_u32 nr_threads;            /* signal->nr_threads */
  np_u32 fds;                   /* set bits of the open-fd bitmap */
  np_u64 start_boottime_ns;
  np_u64 exec_id;               /* self_exec_id: changes on execve (cmdline cache key) */
  np_u64 total_vm_pages;
  np_u64 rss_pages;             /* file + anon + shmem, per-CPU parts summed (as statm) */
  struct np_group_sum sum;
  char comm[NP_COMM_LEN];
};

/* A thread group that ended (sched_process_free of its leader, after the reap), through the
 * ring buffer. */
struct np_exit {
  np_u32 kind;                  /* NP_REC_EXIT */
  np_u32 tgid;
  np_u32 ppid;
  np_u32 uid;
  np_u32 flags;                 /* NP_* */
  np_u32 cgroup_levels;         /* used entries of cgroup_names */
  np_u64 start_boottime_ns;
  np_u64 exit_boot_ns;          /* bpf_ktime_get_boot_ns() at exit */
  np_u64 cgroup_id;             /* kernfs id of the cgroup */
  struct np_group_sum sum;
  char comm[NP_COMM_LEN];
  char cgroup_names[NP_CGROUP_LEVELS][NP_CGROUP_NAME_LEN];  /* innermost first */
};

#endif /* NODEPROC_COLLECTORS_BPF_RECORDS_H_ */

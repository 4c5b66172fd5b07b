/* The few kernel types nodeproc.bpf.c reads, declared for CO-RE: libbpf relocates every field
 * access against the running kernel's BTF (/sys/kernel/btf/vmlinux) at load time, so these
 * declarations only need the right names, not the right layout. Kept small and in the tree
 * (instead of a generated vmlinux.h) so the object builds without the build machine's BTF. */
#ifndef NODEPROC_COLLECTORS_BPF_VMLINUX_MIN_H_
#define NODEPROC_COLLECTORS_BPF_VMLINUX_MIN_H_

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

enum bpf_map_type {
  BPF_MAP_TYPE_ARRAY = 2,
  BPF_MAP_TYPE_PERCPU_ARRAY = 6,
  BPF_MAP_TYPE_RINGBUF = 27,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct list_head {
  struct list_head *next;
  struct list_head *prev;
};

struct seq_file {};

struct bpf_iter_meta {
  struct seq_file *seq;
  u64 session_id;
  u64 seq_num;
};

struct sched_entity {
  u64 sum_exec_runtime;
};

struct prev_cputime {
  u64 utime;
  u64 stime;
};

struct task_io_accounting {
  u64 read_bytes;
  u64 write_bytes;
};

typedef struct {
  unsigned int val;
} kuid_t;

struct cred {
  kuid_t uid;
};

/* Kernel types whose first member is a plain 4- or 8-byte number, at offset 0 on every
 * architecture: typed read-only views of kernel memory (bpf_rdonly_cast + a direct load
 * instead of a bpf_probe_read_kernel call). */
struct seqcount {
  unsigned int sequence;
};

struct timespec64 {
  s64 tv_sec;
};

struct percpu_counter {
  s64 count;
  s32 *counters;  /* __percpu */
};

struct mm_struct {
  unsigned long total_vm;
  struct percpu_counter rss_stat[4];
};

struct file;

struct fdtable {
  unsigned int max_fds;
  struct file **fd;
  unsigned long *open_fds;
};

struct files_struct {
  struct fdtable *fdt;
};

struct kernfs_node {
  struct kernfs_node *__parent;  /* 6.15+ */
  const char *name;
  u64 id;
};

struct kernfs_node___old {
  struct kernfs_node *parent;    /* before 6.15 */
};

struct cgroup {
  int level;
  struct kernfs_node *kn;
};

struct cgroup_subsys_state {
  struct cgroup *cgroup;
};

struct css_set {
  struct cgroup_subsys_state *subsys[12];
  struct cgroup *dfl_cgrp;
};

struct signal_struct {
  int nr_threads;
  struct list_head thread_head;
  u64 utime;
  u64 stime;
  unsigned long long sum_sched_runtime;
  struct prev_cputime prev_cputime;
  struct task_io_accounting ioac;
};

struct pid {
  unsigned int level;  /* depth of the PID namespace the pid was allocated in */
};

struct task_struct {
  unsigned int __state;
  unsigned int flags;
  int exit_state;
  int pid;
  int tgid;
  char comm[16];
  struct task_struct *real_parent;
  struct task_struct *group_leader;
  const struct cred *real_cred;
  struct signal_struct *signal;
  struct mm_struct *mm;
  struct files_struct *files;
  struct css_set *cgroups;
  struct sched_entity se;
  struct list_head thread_node;
  u64 utime;
  u64 stime;
  u64 start_boottime;
  u64 self_exec_id;
  struct task_io_accounting ioac;
  struct pid *thread_pid;
};

struct bpf_iter__task {
  struct bpf_iter_meta *meta;
  struct task_struct *task;
};

struct bpf_map {};

struct bpf_array {
  union {
    void *pptrs[0];
  };
};

#pragma clang attribute pop

enum cgroup_subsys_id {
  memory_cgrp_id = 4,
};

enum {  /* anonymous in the kernel too: fixed values */
  MM_FILEPAGES = 0,
  MM_ANONPAGES = 1,
  MM_SWAPENTS = 2,
  MM_SHMEMPAGES = 3,
};

#endif /* NODEPROC_COLLECTORS_BPF_VMLINUX_MIN_H_ */

// SPDX-License-Identifier: GPL-2.0
/* nodeproc's kernel side: a task iterator emitting one np_task per thread group (the agent's
 * full scans and CPU samples) and a sched_process_free program pushing one np_exit per thread
 * group that ends (exit accounting) through a ring buffer. Read-only: nothing here changes a
 * task, and nothing waits: a full ring buffer drops the record and counts it.
 * GPL: the task iterator and bpf_probe_read_kernel are GPL-only helpers. */
#include "vmlinux_min.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "records.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000
#define MAX_CPUS 1024              /* per-CPU offsets kept (RSS parts of CPUs beyond are left out) */
#define MAX_THREADS_WALKED 65536   /* bound of the thread walk (NP_THREADS_CUT beyond) */
#define MAX_FD_WORDS 16384         /* 1M fds; larger tables are counted up to there */

/* Set by user space before load. */
const volatile __u32 nr_cpus = 1;

/* Per-CPU offsets (__per_cpu_offset[]), found through a per-CPU array map: the address of a
 * CPU's element minus the map's per-CPU base. Needed to sum the per-CPU parts of the RSS
 * counters like /proc/<pid>/statm does (this kernel does not export __per_cpu_offset). */
__u64 cpu_off[MAX_CPUS];
__u32 cpu_off_ready;

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} percpu_probe SEC(".maps");

/* Exit records; user space sizes it (max_entries) before load. */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 21);
} exits SEC(".maps");

/* Exit records dropped because the ring buffer was full (per CPU, summed by user space). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} exit_drops SEC(".maps");

/* A pointer as a plain number (the verifier forbids arithmetic on map pointers). */
static __always_inline __u64 addr_of(void *ptr) {
  __u64 addr = 0;
  bpf_probe_read_kernel(&addr, sizeof(addr), &ptr);
  return addr;
}

static __always_inline void find_cpu_offsets(void) {
  if (cpu_off_ready) return;
  __u32 zero = 0;
  __u64 base = 0;
  __u64 pptrs = addr_of(&percpu_probe) + bpf_core_field_offset(struct bpf_array, pptrs);
  if (bpf_probe_read_kernel(&base, sizeof(base), (void *)pptrs) != 0 || base == 0) return;
  for (__u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
    if (cpu >= nr_cpus) break;
    void *p = bpf_map_lookup_percpu_elem(&percpu_probe, &zero, cpu);
    if (!p) break;
    cpu_off[cpu] = addr_of(p) - base;
  }
  cpu_off_ready = 1;
}

/* ---- thread walk: CPU and I/O of a whole thread group ---- */

/* Typed, read-only view of a kernel address (6.2+): direct loads instead of helper calls. */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym;

struct walk_ctx {
  __u64 head;                   /* &signal->thread_head */
  __u64 node;                   /* current list node (a task's thread_node) */
  __u64 thread_node_off;
  struct np_group_sum *sum;
  __u32 done;
};

static long walk_thread(__u32 i, void *arg) {
  struct walk_ctx *w = arg;
  if (w->node == w->head || w->node == 0) {
    w->done = 1;
    return 1;
  }
  struct task_struct *t =
      bpf_rdonly_cast((void *)(w->node - w->thread_node_off), bpf_core_type_id_kernel(struct task_struct));
  w->sum->utime_ns += t->utime;
  w->sum->stime_ns += t->stime;
  w->sum->runtime_ns += t->se.sum_exec_runtime;
  w->sum->read_bytes += t->ioac.read_bytes;
  w->sum->write_bytes += t->ioac.write_bytes;
  w->node = (__u64)t->thread_node.next;
  return 0;
}

/* Returns 0, or NP_THREADS_CUT when the walk hit its bound. */
static __always_inline __u32 sum_group(struct task_struct *task, struct np_group_sum *sum) {
  __builtin_memset(sum, 0, sizeof(*sum));
  struct signal_struct *sig =
      bpf_rdonly_cast(task->signal, bpf_core_type_id_kernel(struct signal_struct));
  if (!sig) return 0;
  sum->utime_ns = sig->utime;
  sum->stime_ns = sig->stime;
  sum->runtime_ns = sig->sum_sched_runtime;
  sum->prev_utime_ns = sig->prev_cputime.utime;
  sum->prev_stime_ns = sig->prev_cputime.stime;
  sum->read_bytes = sig->ioac.read_bytes;
  sum->write_bytes = sig->ioac.write_bytes;
  struct walk_ctx w = {};
  w.head = (__u64)&sig->thread_head;
  w.node = (__u64)sig->thread_head.next;
  w.sum = sum;
  w.thread_node_off = bpf_core_field_offset(struct task_struct, thread_node);
  bpf_loop(MAX_THREADS_WALKED, walk_thread, &w, 0);
  return w.done ? 0 : NP_THREADS_CUT;
}

/* ---- RSS as /proc/<pid>/statm: file + anon + shmem, each counter's per-CPU parts summed ---- */

struct rss_ctx {
  __u64 counters[3];  /* addresses of the __percpu s32 parts */
  s64 sums[3];
};

static long rss_cpu(__u32 cpu, void *arg) {
  struct rss_ctx *r = arg;
  if (cpu >= MAX_CPUS) return 1;
  __u64 off = cpu_off[cpu];
  for (int i = 0; i < 3; i++) {
    if (!r->counters[i]) continue;
    /* A direct (fault-safe) load through a typed view: no helper call per CPU and counter. */
    struct seqcount *v = bpf_rdonly_cast((void *)(r->counters[i] + off),
                                         bpf_core_type_id_kernel(struct seqcount));
    r->sums[i] += (s32)v->sequence;
  }
  return 0;
}

static __always_inline __u64 rss_pages(struct mm_struct *mm) {
  struct rss_ctx r = {};
  /* Constant indexes only: a variable index would be scaled by the local (smaller) size of
   * struct percpu_counter, not the kernel's. The indexes live in an anonymous enum (no CO-RE
   * relocation possible); they have been file 0, anon 1, shmem 3 since the counters exist. */
  r.sums[0] = mm->rss_stat[MM_FILEPAGES].count;
  r.counters[0] = (__u64)mm->rss_stat[MM_FILEPAGES].counters;
  r.sums[1] = mm->rss_stat[MM_ANONPAGES].count;
  r.counters[1] = (__u64)mm->rss_stat[MM_ANONPAGES].counters;
  r.sums[2] = mm->rss_stat[MM_SHMEMPAGES].count;
  r.counters[2] = (__u64)mm->rss_stat[MM_SHMEMPAGES].counters;
  if (cpu_off_ready) bpf_loop(nr_cpus < MAX_CPUS ? nr_cpus : MAX_CPUS, rss_cpu, &r, 0);
  __u64 total = 0;
  for (int i = 0; i < 3; i++) {
    if (r.sums[i] > 0) total += (__u64)r.sums[i];  /* percpu_counter_sum_positive */
  }
  return total;
}

/* ---- open fds: what /proc/<pid>/fd lists, i.e. installed files ---- */
/* A set bit in open_fds with no file yet is an fd reserved by a call still in progress (a
 * thread blocked in accept(2) holds one): /proc does not list it, so each set bit's file
 * pointer is checked too. */

struct fd_ctx {
  __u64 bits;   /* address of the open_fds bitmap */
  __u64 files;  /* address of the struct file * array */
  __u32 words;
  __u32 count;
};

/* The 8 bytes at a kernel address, by a direct (fault-safe) load through a typed view. */
static __always_inline __u64 load_u64(__u64 addr) {
  struct timespec64 *v = bpf_rdonly_cast((void *)addr, bpf_core_type_id_kernel(struct timespec64));
  return (__u64)v->tv_sec;
}

static long fd_word(__u32 i, void *arg) {
  struct fd_ctx *f = arg;
  if (i >= f->words) return 1;
  __u64 word = load_u64(f->bits + (__u64)i * 8);
  if (word == 0) return 0;
  /* Only the set bits' file pointers are read (a byte of zero bits is skipped whole). */
  __u64 slot = f->files + (__u64)i * 64 * 8;
  for (int b = 0; b < 8; b++) {
    __u64 byte = (word >> (b * 8)) & 0xff;
    if (byte == 0) continue;
    for (int k = 0; k < 8; k++) {
      if (((byte >> k) & 1) && load_u64(slot + (__u64)(b * 8 + k) * 8) != 0) f->count++;
    }
  }
  return 0;
}

static __always_inline __u32 count_fds(struct files_struct *files) {
  struct fdtable *fdt = files->fdt;
  if (!fdt) return 0;
  struct fd_ctx f = {};
  __u32 max_fds = fdt->max_fds;
  f.bits = (__u64)fdt->open_fds;
  f.files = (__u64)fdt->fd;
  f.words = max_fds / 64;  /* fd tables grow in whole words */
  if (f.words > MAX_FD_WORDS) f.words = MAX_FD_WORDS;
  if (!f.bits || !f.files) return 0;
  bpf_loop(f.words, fd_word, &f, 0);
  return f.count;
}

/* ---- the task iterator ---- */

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx) {
  struct seq_file *seq = ctx->meta->seq;
  struct task_struct *task = ctx->task;
  if (ctx->meta->seq_num == 0) {
    find_cpu_offsets();
    struct np_header h = {};
    h.kind = NP_REC_HEADER;
    h.reader_tgid = bpf_get_current_pid_tgid() >> 32;
    h.boot_ns = bpf_ktime_get_boot_ns();
    /* The iterator walks the reader's PID namespace only: user space refuses a nested one. */
    h.reader_pid_level = bpf_get_current_task_btf()->thread_pid->level;
    bpf_seq_write(seq, &h, sizeof(h));
  }
  if (!task) return 0;
  if (task->pid != task->tgid) return 0;  /* one record per thread group: its leader */

  struct np_task r = {};
  r.kind = NP_REC_TASK;
  r.tgid = task->tgid;
  r.ppid = task->real_parent->tgid;
  r.uid = task->real_cred->uid.val;
  r.state = task->__state;
  r.exit_state = task->exit_state;
  r.task_flags = task->flags;
  r.nr_threads = task->signal->nr_threads;
  r.start_boottime_ns = task->start_boottime;
  r.exec_id = task->self_exec_id;
  bpf_probe_read_kernel(r.comm, sizeof(r.comm), task->comm);
  r.flags = sum_group(task, &r.sum);

  struct mm_struct *mm = task->mm;
  if (mm && !(r.task_flags & PF_KTHREAD)) {
    r.flags |= NP_HAS_MM;
    r.total_vm_pages = mm->total_vm;
    r.rss_pages = rss_pages(mm);
  }
  struct files_struct *files = task->files;
  if (files && !(r.task_flags & PF_KTHREAD)) {
    r.flags |= NP_HAS_FILES;
    r.fds = count_fds(files);
  }
  bpf_seq_write(seq, &r, sizeof(r));
  return 0;
}

/* ---- exits ---- */

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn) {
  if (bpf_core_field_exists(kn->__parent)) return BPF_CORE_READ(kn, __parent);
  struct kernfs_node___old *old = (void *)kn;
  return BPF_CORE_READ(old, parent);
}

static __always_inline void fill_cgroup(struct task_struct *task, struct np_exit *e) {
  struct cgroup *cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
  if (cg && BPF_CORE_READ(cg, level) == 0) {
    /* Everything in the v2 root: a v1 (or hybrid) host; containers show in the memory
     * hierarchy, which /proc/<pid>/cgroup lists too. */
    int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
    struct cgroup *v1 = BPF_CORE_READ(task, cgroups, subsys[id & 15], cgroup);  /* pointers: same size here and there */
    if (v1 && BPF_CORE_READ(v1, level) > 0) {
      cg = v1;
      e->flags |= NP_CGROUP_V1;
    }
  }
  if (!cg) return;
  struct kernfs_node *kn = BPF_CORE_READ(cg, kn);
  if (!kn) return;
  e->cgroup_id = BPF_CORE_READ(kn, id);
  for (int i = 0; i < NP_CGROUP_LEVELS; i++) {
    struct kernfs_node *parent = kn_parent(kn);
    if (!parent) return;  /* kn is the root: its name is not part of the path */
    bpf_probe_read_kernel_str(e->cgroup_names[i], NP_CGROUP_NAME_LEN, BPF_CORE_READ(kn, name));
    e->cgroup_levels = i + 1;
    kn = parent;
  }
  if (kn_parent(kn)) e->flags |= NP_CGROUP_CUT;
}

/* When a thread group's leader is freed (after it was reaped, an RCU grace period later),
 * everything the group ever ran is in its signal_struct: each thread's CPU and I/O are added
 * there as it is released, the leader's too, and by then the exit path (address-space
 * teardown) and the last time slice have been accounted. sched_process_exit fires before
 * both (before exit_mm): a record taken there misses milliseconds per exit. */
SEC("tp_btf/sched_process_free")
int BPF_PROG(on_free, struct task_struct *task) {
  if (task->group_leader != task) return 0;  /* a thread, or a leader replaced by a thread's execve */
  if (task->flags & PF_KTHREAD) return 0;
  struct np_exit *e = bpf_ringbuf_reserve(&exits, sizeof(*e), 0);
  if (!e) {
    __u32 zero = 0;
    __u64 *drops = bpf_map_lookup_elem(&exit_drops, &zero);
    if (drops) *drops += 1;
    return 0;
  }
  e->kind = NP_REC_EXIT;
  e->tgid = task->tgid;
  e->ppid = task->real_parent->tgid;
  e->uid = task->real_cred->uid.val;
  e->flags = sum_group(task, &e->sum);  /* the thread list is empty by now: the signal's sums */
  e->start_boottime_ns = task->start_boottime;
  e->exit_boot_ns = bpf_ktime_get_boot_ns();
  e->cgroup_id = 0;
  e->cgroup_levels = 0;
  bpf_probe_read_kernel(e->comm, sizeof(e->comm), &task->comm);
  fill_cgroup(task, e);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

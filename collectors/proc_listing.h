#pragma once
// When a kernel pass (the BPF probe's task iterator) must be cross-checked against a listing of
// <proc_root>. Listing /proc costs about as much as the whole pass (getdents instantiates a
// dentry per pid), and it finds something only when the pass missed a process: one that started
// after it (the next pass sees it) or one hidden from BPF (seen in sandboxes, e.g. a VM's PID 1).
//
// procfs counts processes for free: st_nlink of its root is a constant plus nr_processes(), the
// kernel's number of thread groups (zombies included), whatever the mount's pid namespace. Once
// that constant is known (the same at two listings during which the count did not move), a pass
// whose thread groups plus the hidden ones still alive add up to the count, with the count
// unchanged across the pass, saw every process /proc would list, and the listing is skipped.
// Any mismatch (a fork or exit during the pass, a new hidden process, a module adding a /proc
// directory) lists; so does every `kListEvery`-th scan, whatever the counts say.
// Not thread-safe: one owner (the probe, under its scan lock).
#include <cstddef>
#include <cstdint>

namespace nodeproc {

class ProcListingPolicy {
 public:
  static constexpr uint32_t kListEvery = 12;  // a minute at the default 5 s scan interval

  // links_before/after: st_nlink of <proc_root> just before and after the pass (-1: unknown);
  // expected: thread groups the pass saw plus hidden processes (listed before, not in the pass).
  bool MustList(int64_t links_before, int64_t links_after, size_t expected);

  // After a listing of `listed` pids, between two st_nlink readings of <proc_root>.
  void Listed(int64_t links_before, int64_t links_after, size_t listed);

  uint64_t listings() const { return listings_; }
  uint64_t skipped() const { return skipped_; }

 private:
  int64_t base_ = -1;       // st_nlink minus the number of processes; -1 until calibrated
  int64_t candidate_ = -1;  // the last stable listing's value, confirmed by the next one
  uint32_t since_listing_ = 0;
  uint64_t listings_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace nodeproc

#include "collectors/proc_listing.h"

namespace nodeproc {

bool ProcListingPolicy::MustList(int64_t links_before, int64_t links_after, size_t expected) {
  const bool agree = base_ >= 0 && links_before >= 0 && links_before == links_after &&
                     links_before - base_ == static_cast<int64_t>(expected);
  if (agree && since_listing_ + 1 < kListEvery) {
    ++since_listing_;
    ++skipped_;
    return false;
  }
  return true;
}

void ProcListingPolicy::Listed(int64_t links_before, int64_t links_after, size_t listed) {
  ++listings_;
  since_listing_ = 0;
  // Calibrate only from listings the count did not move across, two in a row agreeing (a fork
  // and an exit during one listing leave the count still but may add or hide a pid in it).
  if (links_before < 0 || links_before != links_after) return;
  const int64_t base = links_before - static_cast<int64_t>(listed);
  if (base == candidate_) base_ = base;
  candidate_ = base;
}

}  // namespace nodeproc

#include "common/progress.h"

namespace shardsafe {

void Progress::start_phase(const std::string& phase, std::uint64_t bytes_total, std::uint64_t units_total) {
  std::lock_guard lock(mutex_);
  phase_ = phase;
  started_ = std::chrono::steady_clock::now();
  bytes_ = 0;
  documents_ = 0;
  units_done_ = 0;
  bytes_total_ = bytes_total;
  units_total_ = units_total;
}

ProgressSnapshot Progress::snapshot() const {
  ProgressSnapshot out;
  {
    std::lock_guard lock(mutex_);
    out.phase = phase_;
    out.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }
  out.bytes = bytes_.load(std::memory_order_relaxed);
  out.bytes_total = bytes_total_.load(std::memory_order_relaxed);
  out.documents = documents_.load(std::memory_order_relaxed);
  out.units_done = units_done_.load(std::memory_order_relaxed);
  out.units_total = units_total_.load(std::memory_order_relaxed);
  return out;
}

}  // namespace shardsafe

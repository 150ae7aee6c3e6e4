// Progress of a long operation: counters updated from any thread, read by a renderer
// (a bar on a terminal, JSON events otherwise: see cli/progress_view.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/error.h"

namespace shardsafe {

struct ProgressSnapshot {
  std::string phase;               // "dump", "oplog", "restore", "indexes", "replay", ...
  std::uint64_t bytes = 0;         // raw (uncompressed) bytes processed in this phase
  std::uint64_t bytes_total = 0;   // estimate; 0 when unknown
  std::uint64_t documents = 0;
  std::uint64_t units_done = 0;    // collections (or replica sets) finished
  std::uint64_t units_total = 0;
  double elapsed_seconds = 0;      // since the phase started
};

// Thread-safe. Counters are relaxed atomics: a snapshot may mix values from a few microseconds
// apart, which is fine for display.
class Progress {
 public:
  void start_phase(const std::string& phase, std::uint64_t bytes_total, std::uint64_t units_total);
  // Throws Error(kCancelled) once cancel() was called: every data path reports here batch by
  // batch, so a cancelled dump or restore stops at its next batch, on every worker thread.
  void add(std::uint64_t bytes, std::uint64_t documents) {
    if (cancelled()) throw Error(ErrorCode::kCancelled, "cancelled");
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    documents_.fetch_add(documents, std::memory_order_relaxed);
  }
  void unit_done() { units_done_.fetch_add(1, std::memory_order_relaxed); }
  ProgressSnapshot snapshot() const;
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  mutable std::mutex mutex_;  // guards phase_ and started_
  std::string phase_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::atomic<bool> cancelled_{false};
  std::atomic<std::uint64_t> bytes_{0}, bytes_total_{0}, documents_{0}, units_done_{0}, units_total_{0};
};

}  // namespace shardsafe

// Shows a Progress while an operation runs: a redrawn bar on a terminal, a JSON event per
// interval otherwise ({"event":"progress",...} on stderr), so people and machines can follow.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/progress.h"

namespace shardsafe::cli {

class ProgressView {
 public:
  // Starts rendering `progress` on stderr until destroyed. `quiet` renders nothing.
  ProgressView(const Progress& progress, bool quiet);
  ~ProgressView();
  ProgressView(const ProgressView&) = delete;
  ProgressView& operator=(const ProgressView&) = delete;

 private:
  void run(std::stop_token stop);
  void render_bar(const ProgressSnapshot& snapshot);
  void render_event(const ProgressSnapshot& snapshot);

  const Progress& progress_;
  bool terminal_;
  std::mutex wake_mutex_;
  std::condition_variable_any wake_;  // only woken by the stop request
  std::jthread thread_;
};

// "1.5 GiB", "12.0 KiB": for people.
std::string human_bytes(std::uint64_t bytes);

}  // namespace shardsafe::cli

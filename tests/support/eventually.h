// Polling with a deadline, for conditions that become true on their own (a secondary catching
// up, a member restarting): never a fixed sleep.
#pragma once

#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>

#include "common/error.h"

namespace shardsafe::testing {

// How many times longer than usual this build takes to do anything: SHARDSAFE_TIME_FACTOR, which
// scripts/test.sh sets for sanitizer builds (their code runs several times slower), else 1.
// Deadlines in tests are scaled by it; nothing ever waits for it.
inline int time_factor() {
  const char* text = std::getenv("SHARDSAFE_TIME_FACTOR");
  const int factor = text ? std::atoi(text) : 1;
  return factor > 0 ? factor : 1;
}

template <typename Duration>
Duration scaled(Duration timeout) {
  return timeout * time_factor();
}

// Polls `condition` every 100 ms until it holds or `timeout` (scaled) passes. A shardsafe::Error thrown
// by the condition (a member down, restarting or still syncing) counts as "not yet".
inline bool eventually(const std::function<bool()>& condition, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + scaled(timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (condition()) return true;
    } catch (const Error&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace shardsafe::testing

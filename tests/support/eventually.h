// Polling with a deadline, for conditions that become true on their own (a secondary catching
// up, a member restarting): never a fixed sleep.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

#include "common/error.h"

namespace shardsafe::testing {

// Polls `condition` every 100 ms until it holds or `timeout` passes. A shardsafe::Error thrown
// by the condition (a member down, restarting or still syncing) counts as "not yet".
inline bool eventually(const std::function<bool()>& condition, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
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

// Retrying transient storage failures: exponential backoff with full jitter.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/error.h"

namespace shardsafe::storage {

// A failure worth retrying (5xx, 429/SlowDown, timeouts, resets, truncated bodies). Any
// other exception is permanent and passes straight through.
class TransientError : public Error {
 public:
  using Error::Error;
};

struct RetryPolicy {
  int max_attempts = 6;                                    // attempts in all, >= 1
  std::chrono::milliseconds base_delay{200};               // first backoff cap
  std::chrono::milliseconds max_delay{20'000};             // no single wait is longer

  // Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): a uniform wait in
  // [0, min(max_delay, base_delay * 2^retry)], so clients that failed together spread out.
  std::chrono::milliseconds delay_before(int retry) const;

  // Runs `attempt` until it returns or throws something other than TransientError. Each
  // retry is logged as a warning naming `what` (which must hold no secrets). When attempts
  // run out, throws Error with the last failure's code: "<what> failed after N attempts: ...".
  void run(const std::string& what, const std::function<void()>& attempt) const;
};

}  // namespace shardsafe::storage

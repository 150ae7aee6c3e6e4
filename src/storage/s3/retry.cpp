#include "storage/s3/retry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <thread>

namespace shardsafe::storage {

std::chrono::milliseconds RetryPolicy::delay_before(int retry) const {
  const auto exponent = std::min(retry, 30);
  const auto cap = std::min<std::int64_t>(max_delay.count(), base_delay.count() << exponent);
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> uniform(0, std::max<std::int64_t>(0, cap));
  return std::chrono::milliseconds(uniform(generator));
}

void RetryPolicy::run(const std::string& what, const std::function<void()>& attempt) const {
  const int attempts = std::max(1, max_attempts);
  for (int number = 1;; ++number) {
    try {
      attempt();
      return;
    } catch (const TransientError& error) {
      if (number >= attempts) {
        throw Error(error.code(), what + " failed after " + std::to_string(number) + " attempts: " + error.what());
      }
      const auto delay = delay_before(number - 1);
      spdlog::warn("{} failed (attempt {}/{}), retrying in {} ms: {}", what, number, attempts, delay.count(),
                   error.what());
      std::this_thread::sleep_for(delay);
    }
  }
}

}  // namespace shardsafe::storage

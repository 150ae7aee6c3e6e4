#include "common/clock.h"

#include <fmt/chrono.h>

#include <chrono>

namespace shardsafe {

std::string iso8601_now() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

}  // namespace shardsafe

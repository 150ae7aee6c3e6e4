#include "common/clock.h"

#include <ctime>

namespace shardsafe {

std::string utc_time(std::chrono::system_clock::time_point time, const char* format) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  return std::string(text, std::strftime(text, sizeof text, format, &utc));
}

std::string iso8601(std::chrono::system_clock::time_point time) { return utc_time(time, "%Y-%m-%dT%H:%M:%SZ"); }

std::string iso8601_now() { return iso8601(std::chrono::system_clock::now()); }

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace shardsafe

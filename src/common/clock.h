// Wall-clock times as shardsafe records them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace shardsafe {

// `time` in UTC, to the second, formatted by strftime's `format`.
std::string utc_time(std::chrono::system_clock::time_point time, const char* format);

// "2026-11-25T22:10:00Z": UTC, to the second, as manifests and status files record times.
std::string iso8601(std::chrono::system_clock::time_point time);
std::string iso8601_now();

// Wall-clock milliseconds since the Unix epoch: leases, heartbeats.
std::int64_t unix_ms();

}  // namespace shardsafe

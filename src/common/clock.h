// Wall-clock times as shardsafe records them.
#pragma once

#include <string>

namespace shardsafe {

// "2026-11-25T22:10:00Z": UTC, to the second, as manifests and status files record times.
std::string iso8601_now();

}  // namespace shardsafe

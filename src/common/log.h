// Logging: spdlog to stderr, so stdout stays free for command results (--json).
// Structured progress events are not log lines: see common/progress.h.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace shardsafe {

// Installs the process-wide logger at `level` ("debug", "info", "warn", ...).
// Safe to call more than once; the last call wins.
void init_logging(std::string_view level);

}  // namespace shardsafe

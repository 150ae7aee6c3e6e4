// The member's log: one timestamped line per event, to --logpath or stderr.
#pragma once

#include <string>

namespace sandbox {

void open_log(const std::string& path);  // empty: stderr
void log_line(const std::string& message);

}  // namespace sandbox

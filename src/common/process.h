// This process as other processes see it: in lock owners and heartbeats.
#pragma once

#include <string>

namespace shardsafe {

// The machine's host name ("" if it has none).
std::string host_name();
// "host:pid": who holds a lock or runs a loop.
std::string this_process();
// Whether process `pid` exists on this machine (a zombie counts: its parent has not reaped it).
bool process_exists(long pid);

}  // namespace shardsafe

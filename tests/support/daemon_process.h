// Starting a shardsafe daemon (`agent`, `server`) as a child process for a test: stdout read up
// to its first line (the JSON `{"listening": "host:port"}` the daemons print once bound),
// stderr appended to a log file.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace shardsafe::testing {

struct StartedDaemon {
  pid_t pid;
  std::string first_line;  // empty when the process exited first
};

// fork + execv(argv[0], argv); throws std::runtime_error when it cannot fork.
StartedDaemon start_daemon(const std::vector<std::string>& argv, const std::string& log_path);
// waitpid, retried on EINTR; returns the exit code, or 128 + the signal.
int wait_for_exit(pid_t pid);

}  // namespace shardsafe::testing

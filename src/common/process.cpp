#include "common/process.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace shardsafe {

std::string host_name() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string this_process() { return host_name() + ":" + std::to_string(getpid()); }

bool process_exists(long pid) {
  // EPERM: it exists but belongs to another user.
  return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace shardsafe

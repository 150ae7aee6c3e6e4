// SIGTERM and SIGINT for the daemons (`agent`, `server`): blocked in the calling thread before
// any other starts, so every thread inherits the mask and the signal is taken in one known
// place, by wait(). SIGPIPE is ignored (a client that disconnects must not kill the daemon).
#pragma once

#include <csignal>

namespace shardsafe::cli {

class StopSignals {
 public:
  StopSignals();
  // Blocks until SIGTERM or SIGINT arrives; returns it.
  int wait();

 private:
  sigset_t signals_;
};

}  // namespace shardsafe::cli

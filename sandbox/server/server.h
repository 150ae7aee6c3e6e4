// The member process: a listening socket, one thread per client connection, and the
// background threads of replication. run_member() returns when SIGTERM or SIGINT arrives,
// after a checkpoint.
#pragma once

#include "server/engine.h"

namespace sandbox {

// Runs a member until it is told to stop. Returns the process exit code.
int run_member(const ServerOptions& options);

}  // namespace sandbox

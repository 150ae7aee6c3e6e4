// One client connection: reads requests, runs them, writes replies, until the client closes
// or sends something malformed (then the connection is closed; the server goes on).
#pragma once

#include <cstdint>

#include "server/engine.h"

namespace sandbox {

// Serves `fd` until it closes; closes it before returning. Never throws.
void serve_connection(Engine& engine, int fd, std::int64_t connection_id);

}  // namespace sandbox

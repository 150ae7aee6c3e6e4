// Running independent tasks on a few threads, failing fast.
#pragma once

#include <cstddef>
#include <functional>

namespace shardsafe {

// Runs task(i) for every i in [0, count) on up to `workers` threads (at least one), handing out
// indexes in order. The first exception stops handing out new indexes; tasks already running
// finish, then that exception is rethrown to the caller. Returns when every task has ended.
void parallel_for(std::size_t count, int workers, const std::function<void(std::size_t)>& task);

}  // namespace shardsafe

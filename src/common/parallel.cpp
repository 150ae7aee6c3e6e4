#include "common/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace shardsafe {

void parallel_for(std::size_t count, int workers, const std::function<void(std::size_t)>& task) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&] {
    while (!failed.load()) {
      const std::size_t index = next.fetch_add(1);
      if (index >= count) return;
      try {
        task(index);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  const auto thread_count = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(workers, 1)), 1, std::max<std::size_t>(count, 1));
  std::vector<std::jthread> threads;
  for (std::size_t i = 1; i < thread_count; ++i) threads.emplace_back(worker);
  worker();
  threads.clear();  // joins
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace shardsafe

#include "common/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace shardsafe {
namespace {

TEST(ParallelFor, RunsEveryIndexExactlyOnce) {
  std::vector<std::atomic<int>> runs(1000);
  parallel_for(runs.size(), 4, [&](std::size_t i) { runs[i]++; });
  for (const auto& count : runs) EXPECT_EQ(count.load(), 1);
}

TEST(ParallelFor, RethrowsTheFirstErrorAndStopsHandingOutWork) {
  std::atomic<int> started{0};
  // Each other task takes 200 us, so running all 10000 would take the other worker 2 s: far
  // longer than the failing one needs to raise the stop flag, even on a loaded machine.
  EXPECT_THROW(parallel_for(10000, 2,
                            [&](std::size_t i) {
                              started++;
                              if (i == 3) throw std::runtime_error("boom");
                              std::this_thread::sleep_for(std::chrono::microseconds(200));
                            }),
               std::runtime_error);
  EXPECT_LT(started.load(), 10000);
}

TEST(ParallelFor, ZeroTasksIsFine) {
  parallel_for(0, 4, [](std::size_t) { FAIL(); });
}

}  // namespace
}  // namespace shardsafe

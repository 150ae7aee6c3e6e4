// The state `pitr` keeps in storage (catalog/pitr_state.h), over the real file:// driver, and
// when a runner counts as alive (coordinator/pitr.h).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog/pitr_state.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/process.h"
#include "coordinator/pitr.h"
#include "storage/fs/fs_storage.h"
#include "storage/temp_dir.h"

namespace shardsafe {
namespace {

catalog::PitrState live_here() {
  return {"running", static_cast<std::int64_t>(getpid()), host_name(), "mongodb://h1:27017", 60, "2026-12-07T16:00:00Z",
          unix_ms(), "2026-12-07T16-01-00Z", {1796661151, 7}, 3, "a tick failed"};
}

// A pid that existed and is gone (its process exited and was reaped).
std::int64_t reaped_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

TEST(PitrState, RoundTripsThroughStorageAndStopRequestsComeAndGo) {
  storage::testing::TempDir dir;
  storage::FsStorage storage(dir.path());
  EXPECT_FALSE(catalog::load_pitr_state(storage).has_value());
  const auto state = live_here();
  catalog::save_pitr_state(storage, state);
  const auto loaded = catalog::load_pitr_state(storage);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->pid, state.pid);
  EXPECT_EQ(loaded->host, state.host);
  EXPECT_EQ(loaded->last_slice_end, state.last_slice_end);
  EXPECT_EQ(loaded->slices, 3u);
  EXPECT_EQ(loaded->last_error, "a tick failed");

  EXPECT_FALSE(catalog::pitr_stop_requested(storage));
  catalog::request_pitr_stop(storage, this_process());
  EXPECT_TRUE(catalog::pitr_stop_requested(storage));
  catalog::clear_pitr_stop(storage);
  EXPECT_FALSE(catalog::pitr_stop_requested(storage));

  storage::write_object(storage, catalog::kPitrStateKey, "{\"state\": \"running\"}");
  try {
    catalog::load_pitr_state(storage);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
    EXPECT_NE(std::string(error.what()).find(catalog::kPitrStateKey), std::string::npos) << error.what();
  }
}

TEST(PitrState, ARunnerIsAliveWhileItHeartbeatsAndItsProcessExists) {
  const std::int64_t now = unix_ms();
  auto state = live_here();
  EXPECT_TRUE(coordinator::pitr_runner_alive(state, now));
  EXPECT_FALSE(coordinator::pitr_runner_alive(state, now + catalog::kPitrDeadAfterMs + 1)) << "its heartbeat stopped";

  state.pid = reaped_pid();
  EXPECT_FALSE(coordinator::pitr_runner_alive(state, now)) << "its process is gone from this host";
  state.host = "another-host-" + host_name();
  EXPECT_TRUE(coordinator::pitr_runner_alive(state, now)) << "another host's processes are not ours to check";

  state = live_here();
  state.state = "stopped";
  EXPECT_FALSE(coordinator::pitr_runner_alive(state, now));
}

}  // namespace
}  // namespace shardsafe

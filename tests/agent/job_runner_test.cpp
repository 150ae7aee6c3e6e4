// The job runner: states, barriers, cancellation, and the durable status files an agent
// keeps, read back after a restart.
#include "agent/job_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "agent/http_json.h"
#include "agent/http_server.h"
#include "storage/temp_dir.h"

namespace shardsafe::agent {
namespace {

namespace fs = std::filesystem;
using storage::testing::TempDir;

JobStatus wait_until(JobRunner& runner, const std::string& id, JobState state) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  JobStatus status = runner.status(id);
  while (status.state != state && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    status = runner.status(id);
  }
  return status;
}

nlohmann::json status_file(const fs::path& dir, const std::string& id) {
  std::ifstream file(dir / "jobs" / (id + ".json"));
  return nlohmann::json::parse(file);
}

// A job that reports progress, awaits a decision and returns it; "fail" in the decision fails it.
JobKinds test_kinds(std::atomic<int>& runs) {
  return {{"echo", [&runs](JobContext& job) -> nlohmann::json {
             ++runs;
             job.progress().start_phase("work", 100, 1);
             job.progress().add(40, 4);
             nlohmann::json decision = job.await_decision({{"ready", job.spec().params.value("n", 0)}});
             if (decision.value("fail", false)) throw Error(ErrorCode::kStorage, "the bucket \"b\" refused the write");
             job.progress().add(2, 1);  // work after the barrier, seen only in the final status
             return {{"decided", decision}};
           }},
          {"loop", [](JobContext& job) -> nlohmann::json {
             job.progress().start_phase("copy", 0, 0);
             while (true) {
               job.progress().add(1, 1);  // throws once cancelled
               std::this_thread::sleep_for(std::chrono::milliseconds(1));
             }
           }}};
}

TEST(JobRunner, StatusFileFollowsEveryStateChange) {
  TempDir dir;
  std::atomic<int> runs{0};
  JobRunner runner(test_kinds(runs), {dir.path(), std::chrono::milliseconds(50)});
  runner.start({"b1.rs0.backup", "echo", {{"n", 7}, {"key", "secret-key-material"}}});

  const JobStatus awaiting = wait_until(runner, "b1.rs0.backup", JobState::kAwaiting);
  ASSERT_EQ(awaiting.state, JobState::kAwaiting);
  EXPECT_EQ(awaiting.result["ready"], 7);
  EXPECT_EQ(awaiting.progress.phase, "work");
  EXPECT_EQ(awaiting.progress.bytes, 40u);
  const auto file = status_file(dir.path(), "b1.rs0.backup");
  EXPECT_EQ(file["state"], "awaiting");
  EXPECT_EQ(file["documents"], 4);
  std::ifstream raw(dir.path() / "jobs" / "b1.rs0.backup.json");
  const std::string text((std::istreambuf_iterator<char>(raw)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("secret-key-material"), std::string::npos) << "params never reach a status file";

  runner.resume("b1.rs0.backup", {{"up_to", 3}});
  const JobStatus done = wait_until(runner, "b1.rs0.backup", JobState::kSucceeded);
  EXPECT_EQ(done.result["decided"]["up_to"], 3);
  const auto final_file = status_file(dir.path(), "b1.rs0.backup");
  EXPECT_EQ(final_file["state"], "succeeded");
  EXPECT_EQ(final_file["bytes"], 42) << "the final file carries the job's final progress";
}

TEST(JobRunner, StartIsIdempotentById) {
  std::atomic<int> runs{0};
  JobRunner runner(test_kinds(runs), {});
  runner.start({"j1", "echo", {}});
  wait_until(runner, "j1", JobState::kAwaiting);
  const JobStatus again = runner.start({"j1", "echo", {}});
  EXPECT_EQ(again.state, JobState::kAwaiting);
  EXPECT_EQ(runs.load(), 1) << "a second start of the same id runs nothing";
  runner.resume("j1", {});
  wait_until(runner, "j1", JobState::kSucceeded);
  EXPECT_THROW(runner.resume("j1", {}), Error) << "only an awaiting job takes a decision";
}

TEST(JobRunner, OnlyTheNewestFinishedJobsAreKept) {
  TempDir dir;
  std::atomic<int> runs{0};
  JobRunnerOptions options{dir.path(), std::chrono::milliseconds(50)};
  options.keep_finished = 2;
  JobRunner runner(test_kinds(runs), options);
  for (const std::string id : {"j1", "j2", "j3"}) {
    runner.start({id, "echo", {}});
    wait_until(runner, id, JobState::kAwaiting);
    runner.resume(id, {});
    ASSERT_EQ(wait_until(runner, id, JobState::kSucceeded).state, JobState::kSucceeded);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // each finishes in a later millisecond
  }
  runner.start({"j4", "echo", {}});
  EXPECT_THROW(runner.status("j1"), Error) << "the oldest finished job is forgotten";
  EXPECT_FALSE(fs::exists(dir.path() / "jobs" / "j1.json"));
  EXPECT_EQ(runner.status("j2").state, JobState::kSucceeded);
  EXPECT_EQ(runner.status("j3").state, JobState::kSucceeded);
  EXPECT_TRUE(fs::exists(dir.path() / "jobs" / "j2.json"));
  wait_until(runner, "j4", JobState::kAwaiting);
  runner.resume("j4", {});
  wait_until(runner, "j4", JobState::kSucceeded);
}

TEST(JobRunner, AFailedJobReportsItsErrorCodeAndMessage) {
  TempDir dir;
  std::atomic<int> runs{0};
  JobRunner runner(test_kinds(runs), {dir.path()});
  runner.start({"j2", "echo", {}});
  wait_until(runner, "j2", JobState::kAwaiting);
  runner.resume("j2", {{"fail", true}});
  const JobStatus failed = wait_until(runner, "j2", JobState::kFailed);
  ASSERT_TRUE(failed.error.has_value());
  EXPECT_EQ(failed.error->code, "storage");
  EXPECT_EQ(failed.error->message, "the bucket \"b\" refused the write");
  EXPECT_EQ(status_file(dir.path(), "j2")["error"]["code"], "storage");
}

TEST(JobRunner, CancelStopsARunningJobAtItsNextBatch) {
  std::atomic<int> runs{0};
  JobRunner runner(test_kinds(runs), {});
  runner.start({"j3", "loop", {}});
  wait_until(runner, "j3", JobState::kRunning);
  runner.cancel("j3");
  EXPECT_EQ(wait_until(runner, "j3", JobState::kCancelled).state, JobState::kCancelled);
  runner.start({"j4", "echo", {}});
  wait_until(runner, "j4", JobState::kAwaiting);
  runner.cancel("j4");
  EXPECT_EQ(wait_until(runner, "j4", JobState::kCancelled).state, JobState::kCancelled) << "a job waiting at a barrier too";
}

TEST(JobRunner, AJobUnderWayWhenTheAgentDiedIsReportedLostAfterARestart) {
  TempDir live, after_crash;
  std::atomic<int> runs{0};
  {
    JobRunner runner(test_kinds(runs), {live.path()});
    runner.start({"j5", "echo", {}});
    wait_until(runner, "j5", JobState::kAwaiting);
    // What a kill -9 leaves on disk: the status file as it was while the job ran.
    fs::create_directories(after_crash.path() / "jobs");
    fs::copy_file(live.path() / "jobs" / "j5.json", after_crash.path() / "jobs" / "j5.json");
  }
  JobRunner restarted(test_kinds(runs), {after_crash.path()});
  const JobStatus lost = restarted.status("j5");
  EXPECT_EQ(lost.state, JobState::kLost);
  ASSERT_TRUE(lost.error.has_value());
  EXPECT_NE(lost.error->message.find("stopped while the job was awaiting"), std::string::npos) << lost.error->message;
  EXPECT_EQ(status_file(after_crash.path(), "j5")["state"], "lost") << "the file is rewritten, so it says so too";
  EXPECT_EQ(restarted.start({"j5", "echo", {}}).state, JobState::kLost) << "a lost job is not started again under its id";
}

TEST(JobRunner, AJobAtABarrierGivesUpOnACoordinatorThatStoppedPolling) {
  std::atomic<int> runs{0};
  JobRunner runner(test_kinds(runs), {});
  runner.start({"j7", "echo", {{"coordinator_timeout_s", 1}}});
  wait_until(runner, "j7", JobState::kAwaiting);
  // list() is not a coordinator's poll: nobody asks about j7 any more.
  auto state = [&] { return runner.list().front().state; };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (state() == JobState::kAwaiting && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const JobStatus gave_up = runner.list().front();
  EXPECT_EQ(gave_up.state, JobState::kFailed);
  ASSERT_TRUE(gave_up.error.has_value());
  EXPECT_EQ(gave_up.error->code, "timeout");
  EXPECT_NE(gave_up.error->message.find("the coordinator stopped asking"), std::string::npos) << gave_up.error->message;
}

TEST(JobRunner, UnknownKindsAndBadIdsAreRefused) {
  std::atomic<int> runs{0};
  JobRunner runner(test_kinds(runs), {});
  EXPECT_THROW(runner.start({"j6", "format-disk", {}}), Error);
  EXPECT_THROW(runner.start({"../escape", "echo", {}}), Error);
  try {
    runner.status("nope");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kNotFound);
  }
  EXPECT_EQ(runs.load(), 0);
}

TEST(BearerToken, OnlyTheExactTokenMatches) {
  EXPECT_TRUE(http::bearer_token_matches("Bearer s3cret", "s3cret"));
  EXPECT_FALSE(http::bearer_token_matches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(http::bearer_token_matches("Bearer s3cretx", "s3cret"));
  EXPECT_FALSE(http::bearer_token_matches("s3cret", "s3cret"));
  EXPECT_FALSE(http::bearer_token_matches("", "s3cret"));
}

// Found while writing the job_status_json fuzz target (UBSan): a count written as an
// out-of-range float was converted with undefined behaviour, a negative one wrapped; both are a
// corrupt status.
TEST(JobStatus, CountsThatAreNotNonNegativeIntegersAreCorrupt) {
  const std::string status = R"({"id": "a", "kind": "backup", "state": "running", "phase": "dump", "bytes_total": 0,
    "documents": 0, "units_done": 0, "units_total": 0, "started_at": "", "updated_at": "", "heartbeat_ms": 0, "bytes": )";
  for (const std::string bytes : {"1e300", "-1", "1.5"}) {
    try {
      job_status_from_json(nlohmann::json::parse(status + bytes + "}"), "test");
      ADD_FAILURE() << "accepted bytes " << bytes;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kCorruptData) << bytes;
    }
  }
  EXPECT_EQ(job_status_from_json(nlohmann::json::parse(status + "7}"), "test").progress.bytes, 7u);
}

}  // namespace
}  // namespace shardsafe::agent

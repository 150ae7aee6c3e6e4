// The server's schedule, retention and metrics, over real HTTP against a sandbox replica set:
// a run missed while the server was down runs once at start, retention runs after each backup,
// /metrics reports what happened.
#include <gtest/gtest.h>

#include <filesystem>

#include "server/job_store.h"
#include "server_process.h"

namespace shardsafe::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::cluster_yaml;
using testing::file_storage;
using testing::get_json;
using testing::insert_items;
using testing::post_json;
using testing::SandboxReplSet;
using testing::ServerProcess;
using testing::TempDir;
using testing::wait_for_job;

class ScheduleTest : public ::testing::Test {
 protected:
  ScheduleTest() { insert_items(source_.uri(), 100); }

  TempDir dir_;
  SandboxReplSet source_{{}};
  fs::path storage_root_ = dir_.path() / "storage";
};

std::vector<json> jobs_by(const ServerProcess& server, const std::string& trigger) {
  std::vector<json> found;
  const json jobs = get_json(server, "/api/v1/jobs");
  for (const auto& job : jobs["jobs"]) {
    if (job["trigger"] == trigger) found.push_back(job);
  }
  return found;
}

TEST_F(ScheduleTest, ARunMissedWhileTheServerWasDownRunsOnceAtStart) {
  // Once a year, on January 1st: never due while the test runs.
  ServerProcess server(dir_.path(), file_storage(storage_root_),
                       cluster_yaml("prod", source_.uri(), "    schedule: {full: \"0 0 1 1 *\", incremental: \"0 0 1 1 *\"}\n"));
  const json clusters = get_json(server, "/api/v1/clusters");
  EXPECT_EQ(clusters["clusters"][0]["schedule"]["full"]["cron"], "0 0 1 1 *");
  EXPECT_TRUE(jobs_by(server, "schedule").empty()) << "a first start misses nothing";
  EXPECT_EQ(server.terminate(), 0);

  const auto two_years_ago = std::chrono::duration_cast<std::chrono::seconds>(
                                 (std::chrono::system_clock::now() - std::chrono::hours(24 * 730)).time_since_epoch())
                                 .count();
  {
    JobStore store((dir_.path() / "data" / "jobs.db").string());
    store.set_last_fire("prod", "full", two_years_ago);  // the server was down for two New Years
  }
  server.launch();
  std::vector<json> scheduled;
  for (int i = 0; i < 100 && scheduled.empty(); ++i) {
    scheduled = jobs_by(server, "schedule");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(scheduled.size(), 1u) << "two missed runs run once\n" << server.log();
  EXPECT_EQ(scheduled[0]["kind"], "full");
  EXPECT_EQ(wait_for_job(server, scheduled[0]["id"])["state"], "succeeded");
  EXPECT_EQ(get_json(server, "/api/v1/clusters/prod/backups")["backups"].size(), 1u);

  EXPECT_EQ(server.terminate(), 0);
  server.launch();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(jobs_by(server, "schedule").size(), 1u) << "the schedule went on from the run: nothing is due again";
}

TEST_F(ScheduleTest, AScheduleFiresWhileTheServerRuns) {
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri(), "    schedule: {full: \"* * * * *\"}\n"));
  std::vector<json> scheduled;
  for (int i = 0; i < 140 && scheduled.empty(); ++i) {  // within the next minute, and then some
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    scheduled = jobs_by(server, "schedule");
  }
  ASSERT_EQ(scheduled.size(), 1u) << server.log();
  EXPECT_EQ(wait_for_job(server, scheduled[0]["id"])["state"], "succeeded");
  const json clusters = get_json(server, "/api/v1/clusters");
  EXPECT_FALSE(clusters["clusters"][0]["schedule"]["full"]["next"].get<std::string>().empty());
}

TEST_F(ScheduleTest, RetentionRunsAfterEachBackupAndMetricsReportIt) {
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri(), "    retention: {keep_last: 1}\n"));
  const json first = wait_for_job(server, post_json(server, "/api/v1/clusters/prod/backups", R"({"kind":"full"})").second["job"]);
  ASSERT_EQ(first["state"], "succeeded") << first.dump(2);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // backup ids are to the second
  const json second = wait_for_job(server, post_json(server, "/api/v1/clusters/prod/backups", R"({"kind":"full"})").second["job"]);
  ASSERT_EQ(second["state"], "succeeded") << second.dump(2);
  EXPECT_EQ(second["result"]["retention"]["deleted"], json::array({first["result"]["id"]})) << second.dump(2);
  const json listing = get_json(server, "/api/v1/clusters/prod/backups");
  ASSERT_EQ(listing["backups"].size(), 1u);
  EXPECT_EQ(listing["backups"][0]["id"], second["result"]["id"]);
  EXPECT_FALSE(fs::exists(storage_root_ / "prod" / "backups" / first["result"]["id"].get<std::string>()));

  // A failure counts: a restore of a backup that is not there.
  const json failed = wait_for_job(server, post_json(server, "/api/v1/clusters/prod/restores", R"({"backup":"2020-01-01T00-00-00Z"})").second["job"]);
  EXPECT_EQ(failed["state"], "failed");
  EXPECT_EQ(failed["error"]["error"], "not_found") << failed.dump(2);

  const auto metrics = server.client().Get("/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  const std::string& text = metrics->body;
  EXPECT_NE(text.find("# TYPE shardsafe_last_success_timestamp_seconds gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("shardsafe_last_success_timestamp_seconds{cluster=\"prod\",kind=\"full\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("shardsafe_last_duration_seconds{cluster=\"prod\",kind=\"full\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("shardsafe_last_backup_bytes{cluster=\"prod\",kind=\"full\"} " +
                      std::to_string(second["result"]["stored_bytes"].get<std::int64_t>())),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("shardsafe_job_failures_total{cluster=\"prod\",kind=\"restore\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("shardsafe_job_failures_total{cluster=\"prod\",kind=\"full\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("shardsafe_pitr_lag_seconds{cluster=\"prod\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("shardsafe_jobs_running 0"), std::string::npos) << text;
}

}  // namespace
}  // namespace shardsafe::server

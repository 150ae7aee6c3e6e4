#include "server/job_store.h"

#include <gtest/gtest.h>

#include "storage/temp_dir.h"

namespace shardsafe::server {
namespace {

JobRecord backup(const std::string& cluster, const std::string& kind) {
  JobRecord record;
  record.cluster = cluster;
  record.kind = kind;
  record.trigger = "api";
  record.params = {{"kind", kind}};
  record.created_at = "2026-12-07T16:00:00Z";
  return record;
}

class JobStoreTest : public ::testing::Test {
 protected:
  storage::testing::TempDir dir_;
  std::string path_ = (dir_.path() / "jobs.db").string();
};

TEST_F(JobStoreTest, KeepsJobsAcrossReopeningNewestFirst) {
  {
    JobStore store(path_);
    for (int i = 0; i < 5; ++i) {
      auto record = backup("prod", "full");
      store.insert(record);
      EXPECT_EQ(record.id, i + 1);
      record.state = kSucceeded;
      record.result = {{"stored_bytes", 100 * (i + 1)}};
      record.log = {"a", "b"};
      store.update(record);
    }
  }
  JobStore store(path_);
  const auto all = store.list(100);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all.front().id, 5);
  EXPECT_EQ(all.front().result["stored_bytes"], 500);
  EXPECT_EQ(all.front().log, (std::vector<std::string>{"a", "b"}));
  const auto page = store.list(2, 4);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, 3);
  EXPECT_EQ(page[1].id, 2);
  EXPECT_FALSE(store.get(42));
}

TEST_F(JobStoreTest, JobsLeftRunningAreInterrupted) {
  JobStore store(path_);
  auto running = backup("prod", "full");
  store.insert(running);
  running.state = kRunning;
  store.update(running);
  auto done = backup("prod", "incremental");
  store.insert(done);
  done.state = kSucceeded;
  store.update(done);
  EXPECT_EQ(store.mark_interrupted(), 1);
  const auto after = *store.get(running.id);
  EXPECT_EQ(after.state, kFailed);
  EXPECT_NE(after.error_message.find("interrupted"), std::string::npos);
  EXPECT_FALSE(after.finished_at.empty());
  EXPECT_EQ(store.get(done.id)->state, kSucceeded);
}

TEST_F(JobStoreTest, StatsAndScheduleState) {
  JobStore store(path_);
  auto ok = backup("prod", "full");
  store.insert(ok);
  ok.state = kSucceeded;
  ok.finished_at = "2026-12-07T16:00:10Z";
  ok.duration_s = 10.5;
  ok.result = {{"stored_bytes", 4096}};
  store.update(ok);
  auto bad = backup("prod", "full");
  store.insert(bad);
  bad.state = kFailed;
  store.update(bad);
  const auto stats = store.stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].last_success_unix, 1796659210);
  EXPECT_DOUBLE_EQ(stats[0].last_duration_s, 10.5);
  EXPECT_EQ(stats[0].last_bytes, 4096);
  EXPECT_EQ(stats[0].failures, 1);

  EXPECT_FALSE(store.last_fire("prod", "full"));
  store.set_last_fire("prod", "full", 100);
  store.set_last_fire("prod", "full", 200);
  EXPECT_EQ(store.last_fire("prod", "full"), 200);
}

}  // namespace
}  // namespace shardsafe::server

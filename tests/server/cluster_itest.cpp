// The server on what clusters really are: a sharded cluster backed up through its mongos with
// each replica set's progress shown, and incremental backups restored to a point in time, all
// through the API.
#include <gtest/gtest.h>

#include <filesystem>

#include "server_process.h"
#include "support/sandbox_cluster.h"

namespace shardsafe::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::cluster_yaml;
using testing::count_items;
using testing::file_storage;
using testing::get_json;
using testing::insert_items;
using testing::post_json;
using testing::ServerProcess;
using testing::TempDir;
using testing::wait_for_job;

// Documents {_id: i} for i in [first, last) into shop.items.
void insert_range(const std::string& uri, int first, int last) {
  mongo::Client client{mongo::Uri(uri)};
  std::vector<mongo::Bson> owned;
  for (int i = first; i < last; ++i) owned.push_back(mongo::BsonBuilder().append("_id", i).build());
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& doc : owned) raw.push_back(doc.bytes());
  client.insert_many("shop", "items", raw, true, mongo::BsonBuilder().append("w", "majority").build());
}

void drop_items(const std::string& uri) {
  mongo::Client client{mongo::Uri(uri)};
  client.command("shop", mongo::BsonBuilder().append("drop", "items").build());
}

TEST(ServerClusterTest, AShardedClusterIsBackedUpWithProgressPerReplicaSet) {
  TempDir dir;
  testing::SandboxShardedCluster cluster({});
  insert_items(cluster.mongos_uri(), 1000);
  ServerProcess server(dir.path(), file_storage(dir.path() / "storage"), cluster_yaml("prod", cluster.mongos_uri()));
  const json job = wait_for_job(server, post_json(server, "/api/v1/clusters/prod/backups", R"({"kind":"full"})").second["job"]);
  ASSERT_EQ(job["state"], "succeeded") << job.dump(2);
  EXPECT_EQ(job["result"]["replica_sets"], 3) << "two shards and the config server";
  EXPECT_EQ(job["result"]["documents"].get<int>() >= 1000, true) << job.dump(2);
  std::set<std::string> sets;
  for (const auto& set : job["progress"]["replica_sets"]) {
    sets.insert(set["name"].get<std::string>());
    EXPECT_EQ(set["state"], "succeeded") << set.dump();
  }
  EXPECT_EQ(sets.size(), 3u) << job.dump(2);
  const json listing = get_json(server, "/api/v1/clusters/prod/backups");
  ASSERT_EQ(listing["backups"].size(), 1u);
  EXPECT_EQ(listing["backups"][0]["topology"], "sharded");
}

TEST(ServerClusterTest, IncrementalBackupsRestoreToAPointInTime) {
  TempDir dir;
  testing::SandboxReplSet source({});
  insert_range(source.uri(), 0, 100);
  ServerProcess server(dir.path(), file_storage(dir.path() / "storage"), cluster_yaml("prod", source.uri()));
  const json full = wait_for_job(server, post_json(server, "/api/v1/clusters/prod/backups", R"({"kind":"full"})").second["job"]);
  ASSERT_EQ(full["state"], "succeeded") << full.dump(2);
  insert_range(source.uri(), 100, 150);
  const json increment =
      wait_for_job(server, post_json(server, "/api/v1/clusters/prod/backups", R"({"kind":"incremental"})").second["job"]);
  ASSERT_EQ(increment["state"], "succeeded") << increment.dump(2);
  EXPECT_EQ(increment["kind"], "incremental");
  const std::string point = increment["result"]["consistency_point"];

  const json listing = get_json(server, "/api/v1/clusters/prod/backups");
  ASSERT_EQ(listing["backups"].size(), 2u);
  ASSERT_EQ(listing["timeline"]["windows"].size(), 1u) << listing.dump(2);
  EXPECT_EQ(listing["timeline"]["windows"][0]["to"]["ts"], point);
  EXPECT_TRUE(listing["timeline"]["gaps"].empty());

  insert_range(source.uri(), 150, 170);  // after the point: not restored
  drop_items(source.uri());
  const auto [status, started] = post_json(server, "/api/v1/clusters/prod/restores", json({{"to_time", point}, {"drop", true}}).dump());
  ASSERT_EQ(status, 202) << started.dump();
  const json restore = wait_for_job(server, started["job"]);
  ASSERT_EQ(restore["state"], "succeeded") << restore.dump(2);
  EXPECT_EQ(count_items(source.uri()), 150);
}

// A replica set with `documents` documents, a `shardsafe agent` beside its member, and a
// server whose cluster names that agent.
class AgentClusterTest : public ::testing::Test {
 protected:
  explicit AgentClusterTest(int documents = 300) { insert_range(source_.uri(), 0, documents); }

  TempDir dir_;
  testing::SandboxReplSet source_{{}};
  std::string agent_token_ = testing::write_token_file(dir_.path() / "agent-token");
  testing::AgentProcess agent_{dir_.path() / "agent", dir_.path() / "agent-token", source_.hosts()[0]};
  // agent_token_file is a top-level key: it follows the storage map, unindented.
  ServerProcess server_{dir_.path(), file_storage(dir_.path() / "storage") + "agent_token_file: " + (dir_.path() / "agent-token").string() + "\n",
                        cluster_yaml("prod", source_.uri(), "    agents: {rs0: \"" + agent_.address() + "\"}\n")};
};

// Enough data that the job is still running when the test acts on it.
class SlowAgentClusterTest : public AgentClusterTest {
 protected:
  SlowAgentClusterTest() : AgentClusterTest(20000) {}
};

TEST_F(AgentClusterTest, AClusterWithAgentsRunsItsJobsInThem) {
  ServerProcess& server = server_;
  const testing::AgentProcess& agent = agent_;
  const fs::path& dir = dir_.path();
  const json job = wait_for_job(server, post_json(server, "/api/v1/clusters/prod/backups", "{}").second["job"]);
  ASSERT_EQ(job["state"], "succeeded") << job.dump(2);
  ASSERT_EQ(job["progress"]["replica_sets"].size(), 1u);
  EXPECT_NE(job["progress"]["replica_sets"][0]["runs_on"].get<std::string>().find(agent.address()), std::string::npos) << job.dump(2);
  EXPECT_EQ(get_json(server, "/api/v1/clusters")["clusters"][0]["agents"]["rs0"][0], agent.address());
  EXPECT_TRUE(fs::exists(dir / "storage" / "prod" / "backups" / job["result"]["id"].get<std::string>() / "manifest.json"))
      << "the agent wrote to the cluster's prefix";
}

TEST_F(SlowAgentClusterTest, AJobThatCannotStopInTheGracePeriodIsRecordedInterrupted) {
  ServerProcess& server = server_;
  testing::AgentProcess& agent = agent_;
  server.kill_hard();
  server.launch(/*shutdown_grace_s=*/1);
  const std::int64_t id = post_json(server, "/api/v1/clusters/prod/backups", "{}").second["job"];
  for (int i = 0; i < 200 && get_json(server, "/api/v1/jobs/" + std::to_string(id))["progress"].value("replica_sets", json::array()).empty();
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  agent.pause();  // the job's agent hangs: the job cannot reach a safe point
  const int status = server.terminate();
  agent.resume();
  EXPECT_EQ(status, 15) << "exit code of kCancelled: jobs were left running\n" << server.log();
  EXPECT_NE(server.log().find("recorded as interrupted"), std::string::npos) << server.log();
  server.launch();
  const json job = get_json(server, "/api/v1/jobs/" + std::to_string(id));
  EXPECT_EQ(job["state"], "failed") << job.dump(2);
  EXPECT_NE(job["error"]["message"].get<std::string>().find("interrupted"), std::string::npos) << job.dump(2);
}

}  // namespace
}  // namespace shardsafe::server

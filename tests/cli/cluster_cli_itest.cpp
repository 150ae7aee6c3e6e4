// The shardsafe binary against a sharded cluster: agents named on the command line and in the
// config file, `status`, and a coordinator killed mid-backup (its lease expires, the next run
// puts the balancer back, `delete --incomplete` removes what it left).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "cli/cli_runner.h"
#include "coordinator/cluster_dataset.h"
#include "mongo/topology.h"
#include "support/agent_process.h"
#include "support/eventually.h"
#include "support/sandbox_cluster.h"

namespace shardsafe {
namespace {

namespace fs = std::filesystem;
using testing::last_json;
using testing::shardsafe;
using testing::TempDir;

std::string balancer_mode(mongo::Client& mongos) {
  return mongo::BsonView(mongos.command("admin", mongo::BsonBuilder().append("balancerStatus", 1).build())).string("mode").value_or("?");
}

class ClusterCliTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::load_cluster_dataset(mongos_, cluster_.shard_names(), kOrders); }

  static constexpr int kOrders = 4000;
  testing::SandboxShardedCluster cluster_{{.shards = 2, .members = 1, .config_members = 1}};
  mongo::Client mongos_{mongo::Uri(cluster_.mongos_uri())};
  TempDir dir_;
  std::string storage_ = "--storage file://" + (dir_.path() / "backups").string();
};

TEST_F(ClusterCliTest, BackupAndRestoreThroughAgentsFromTheConfigFileAndStatus) {
  testing::write_token_file(dir_.path() / "token");
  std::ofstream config(dir_.path() / "shardsafe.yaml");
  config << "storage:\n  url: file://" << (dir_.path() / "backups").string() << "\n";
  config << "agent_token_file: " << (dir_.path() / "token").string() << "\nagents:\n";
  std::vector<std::unique_ptr<testing::AgentProcess>> agents;
  std::vector<std::string> sets = cluster_.shard_uris();
  sets.push_back(cluster_.config_uri());
  for (const auto& uri : sets) {
    const auto set = mongo::discover_replica_set(mongo::Uri(uri));
    agents.push_back(std::make_unique<testing::AgentProcess>(dir_.path() / set.name, dir_.path() / "token", set.primary));
    config << "  " << set.name << ": \"" << agents.back()->address() << "\"\n";
  }
  config.close();
  const std::string with_config = " --config " + (dir_.path() / "shardsafe.yaml").string();

  const auto backup = shardsafe("--json backup --uri " + cluster_.mongos_uri() + with_config);
  ASSERT_EQ(backup.exit_code, 0) << backup.out;
  const std::string id = last_json(backup.out).at("id");
  EXPECT_EQ(last_json(backup.out).at("replica_sets"), 3);

  const auto status = shardsafe("--json status" + with_config);
  ASSERT_EQ(status.exit_code, 0) << status.out;
  const auto operations = last_json(status.out).at("operations");
  ASSERT_EQ(operations.size(), 1u) << status.out;
  EXPECT_EQ(operations[0].at("state"), "succeeded");
  EXPECT_EQ(operations[0].at("sets").size(), 3u);
  EXPECT_NE(operations[0].at("sets")[0].at("runs_on").get<std::string>().find("agent 127.0.0.1:"), std::string::npos);

  testing::damage_cluster_dataset(mongos_);
  const auto restore = shardsafe("--json restore --backup " + id + " --uri " + cluster_.mongos_uri() + " --drop" + with_config);
  ASSERT_EQ(restore.exit_code, 0) << restore.out;
  EXPECT_EQ(last_json(restore.out).at("documents"), kOrders + 100 + 50);

  std::ofstream(dir_.path() / "wrong-token") << "not-the-token\n";
  const auto refused = shardsafe("backup --uri " + cluster_.mongos_uri() + with_config + " --agent-token-file " +
                                 (dir_.path() / "wrong-token").string());
  EXPECT_EQ(refused.exit_code, 9) << refused.out;
  EXPECT_NE(refused.out.find("refused the token"), std::string::npos) << refused.out;
  EXPECT_EQ(refused.out.find("not-the-token"), std::string::npos) << "the token is never printed";
}

TEST_F(ClusterCliTest, TheCoordinatorKilledMidBackupLosesItsLeaseAndTheNextRunPutsTheBalancerBack) {
  // Enough data that the backup is still dumping when it is killed.
  std::vector<mongo::Bson> bulk;
  for (int i = 0; i < 30000; ++i) bulk.push_back(mongo::BsonBuilder().append("_id", i).append("pad", std::string(1000, 'p')).build());
  testing::insert_documents(mongos_, "bulk", "data", bulk);
  testing::run(mongos_, "admin", R"({"balancerStart": 1})");
  const std::string binary = (testing::build_dir() / "shardsafe").string();
  const std::string storage_url = "file://" + (dir_.path() / "backups").string();
  const pid_t coordinator = fork();
  if (coordinator == 0) {
    execl(binary.c_str(), binary.c_str(), "--quiet", "--log-level", "off", "backup", "--uri", cluster_.mongos_uri().c_str(),
          "--storage", storage_url.c_str(), "--lock-lease", "5", nullptr);
    _exit(127);
  }
  mongo::Client config{mongo::Uri(cluster_.config_uri())};
  // Killed once it holds the lock, has stopped the balancer and has stored some objects.
  auto stored_an_object = [&] {
    const fs::path backups = dir_.path() / "backups" / "backups";
    if (!fs::exists(backups)) return false;
    for (const auto& entry : fs::recursive_directory_iterator(backups)) {
      if (entry.is_regular_file() && entry.path().filename().string().find(".shardsafe-tmp-") == std::string::npos) return true;
    }
    return false;
  };
  const bool mid_backup = testing::eventually(
      [&] {
        mongo::Cursor lock = config.find("admin", "shardsafe.lock", mongo::Bson());
        return lock.next() != nullptr && balancer_mode(mongos_) == "off" && stored_an_object();
      },
      std::chrono::seconds(30));
  kill(coordinator, SIGKILL);
  waitpid(coordinator, nullptr, 0);
  ASSERT_TRUE(mid_backup) << "the backup never held the lock with the balancer stopped";

  const auto refused = shardsafe("backup --lock-wait 0 --uri " + cluster_.mongos_uri() + " " + storage_);
  EXPECT_EQ(refused.exit_code, 14) << refused.out;
  EXPECT_NE(refused.out.find("another shardsafe backup holds the lock"), std::string::npos) << refused.out;

  testing::Run next{};
  EXPECT_TRUE(testing::eventually([&] { return (next = shardsafe("--json backup --uri " + cluster_.mongos_uri() + " " + storage_)).exit_code == 0; },
                                  std::chrono::seconds(30)))
      << next.out;
  EXPECT_NE(balancer_mode(mongos_), "off") << "the run that took the lock over started the balancer the dead run had stopped";

  const auto listed = last_json(shardsafe("--json list " + storage_).out);
  EXPECT_EQ(listed.at("backups").size(), 1u);
  ASSERT_EQ(listed.at("incomplete").size(), 1u) << "the killed run's objects, never listed as a backup";
  nlohmann::json deleted;
  EXPECT_TRUE(testing::eventually(
      [&] {
        deleted = last_json(shardsafe("--json delete --incomplete " + storage_).out);
        return deleted.at("deleted").size() == 1;
      },
      std::chrono::seconds(40)))
      << deleted.dump() << ": kept while its record looked alive, deleted once it was abandoned";
  EXPECT_TRUE(last_json(shardsafe("--json list " + storage_).out).at("incomplete").empty());
  const auto status = last_json(shardsafe("--json status " + storage_).out).at("operations");
  EXPECT_TRUE(std::any_of(status.begin(), status.end(), [](const auto& op) { return op.at("state") == "abandoned"; })) << status.dump();
}

}  // namespace
}  // namespace shardsafe

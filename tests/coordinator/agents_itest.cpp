// Backups and restores of a sharded cluster whose jobs run in `shardsafe agent` processes, one
// beside each replica set's primary: data flows from the nodes to storage (file:// and s3://)
// and back, each agent keeps its status files, an agent killed mid-backup fails the backup
// cleanly, one killed while its restore waits for the others is rolled back by the
// coordinator, one killed after the commit decision has its commit finished by the
// coordinator, and one whose coordinator went silent follows the decision on record.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/job.h"
#include "agent/client.h"
#include "agent/jobs.h"
#include "catalog/catalog.h"
#include "catalog/manifest_json.h"
#include "catalog/operations.h"
#include "coordinator/backup.h"
#include "coordinator/cluster_dataset.h"
#include "coordinator/restore.h"
#include "dump/fingerprint.h"
#include "mongo/topology.h"
#include "storage/open.h"
#include "storage/s3rver.h"
#include "support/agent_process.h"
#include "support/eventually.h"
#include "support/sandbox_cluster.h"

namespace shardsafe {
namespace {

namespace fs = std::filesystem;
using testing::AgentProcess;
using testing::SandboxShardedCluster;
using testing::TempDir;

// A cluster with one agent beside each replica set's primary.
class AgentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mongo::Client mongos{mongo::Uri(cluster_.mongos_uri())};
    testing::load_cluster_dataset(mongos, cluster_.shard_names(), 4000);
    settings_.token = testing::write_token_file(dir_.path() / "token");
    std::vector<std::string> sets = cluster_.shard_uris();
    sets.push_back(cluster_.config_uri());
    for (const auto& uri : sets) {
      const auto set = mongo::discover_replica_set(mongo::Uri(uri));
      agents_[set.name] = std::make_unique<AgentProcess>(dir_.path() / ("agent-" + set.name), dir_.path() / "token", set.primary);
      settings_.agents[set.name].push_back(agents_[set.name]->address());
    }
  }

  coordinator::BackupRequest backup_request(const std::string& storage_url) const {
    coordinator::BackupRequest request;
    request.uri = cluster_.mongos_uri();
    request.agents = settings_;
    request.storage_location = {storage_url, {}};
    // Short, so a killed agent fails the backup soon; scaled, so a slow (sanitized) live one does not.
    request.limits.heartbeat_timeout = testing::scaled(std::chrono::seconds(3));
    return request;
  }

  coordinator::RestoreRequest restore_request(const std::string& id, const std::string& storage_url) const {
    coordinator::RestoreRequest request;
    request.backup_id = id;
    request.target_uri = cluster_.mongos_uri();
    request.options.drop = true;
    request.agents = settings_;
    request.storage_location = {storage_url, {}};
    return request;
  }

  // Restores backup `id` on a thread (a killed agent fails its job within 3 s), keeping the
  // error it ends with, if any, in `failure`.
  std::jthread restore_in_background(const std::string& id, const std::string& url, storage::Storage& storage,
                                     std::optional<Error>& failure) const {
    return std::jthread([this, id, url, &storage, &failure] {
      auto request = restore_request(id, url);
      request.limits.heartbeat_timeout = std::chrono::seconds(3);
      Progress progress;
      try {
        coordinator::run_restore(request, storage, progress);
      } catch (const Error& error) {
        failure = error;
      }
    });
  }

  // The states recorded in an agent's status files.
  std::vector<std::string> status_file_states(const std::string& set) const {
    std::vector<std::string> states;
    for (const auto& file : fs::directory_iterator(agents_.at(set)->data_dir() / "jobs")) {
      // A status file being replaced is written to a hidden temporary file first; an agent
      // killed meanwhile leaves it behind, and only the file itself counts.
      if (file.path().filename().string().starts_with(".")) continue;
      states.push_back(nlohmann::json::parse(std::ifstream(file.path())).at("state"));
    }
    return states;
  }

  void round_trip(const std::string& storage_url) {
    auto storage = storage::open_storage(storage_url);
    const mongo::Uri mongos_uri(cluster_.mongos_uri());
    const auto original = dump::fingerprint_cluster(mongos_uri);
    Progress progress;
    const auto manifest = coordinator::run_backup(backup_request(storage_url), *storage, progress);
    EXPECT_EQ(manifest.replica_sets.size(), 3u);
    for (const auto& [set, agent] : agents_) {
      EXPECT_EQ(status_file_states(set), std::vector<std::string>{"succeeded"}) << "agent of " << set;
    }
    mongo::Client mongos(mongos_uri);
    testing::damage_cluster_dataset(mongos);

    const auto summary = coordinator::run_restore(restore_request(manifest.id, storage_url), *storage, progress);

    EXPECT_EQ(summary.documents, 4000u + 100 + 50);
    EXPECT_EQ(dump::fingerprint_cluster(mongos_uri), original);
    for (const auto& shard : cluster_.shard_names()) {
      EXPECT_EQ(status_file_states(shard).size(), 2u) << "a backup job and a restore job ran in the agent of " << shard;
    }
  }

  SandboxShardedCluster cluster_{{.shards = 2, .members = 1, .config_members = 1}};
  TempDir dir_;
  coordinator::AgentSettings settings_;
  std::map<std::string, std::unique_ptr<AgentProcess>> agents_;
};

TEST_F(AgentsTest, BackupAndRestoreThroughAgentsWithFileStorage) { round_trip("file://" + (dir_.path() / "backups").string()); }

TEST_F(AgentsTest, BackupAndRestoreThroughAgentsWithS3Storage) {
  storage::testing::S3rver s3("shardsafe-agents");
  round_trip(s3.url("cluster"));
}

TEST_F(AgentsTest, AnAgentThatFrontsNoMemberOfTheSetIsRefused) {
  const std::string url = "file://" + (dir_.path() / "backups").string();
  auto request = backup_request(url);
  std::swap(request.agents.agents[cluster_.shard_names()[0]], request.agents.agents[cluster_.shard_names()[1]]);
  auto storage = storage::open_storage(url);
  Progress progress;
  try {
    coordinator::run_backup(request, *storage, progress);
    FAIL() << "agents were used for sets they do not run beside";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(error.what()).find("runs beside a healthy member"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(catalog::Catalog(*storage).list().empty());
}

TEST_F(AgentsTest, AnAgentKilledMidBackupFailsItCleanlyAndTheNextBackupSucceeds) {
  const std::string url = "file://" + (dir_.path() / "backups").string();
  auto storage = storage::open_storage(url);
  const std::string victim = cluster_.shard_names()[1];
  std::optional<Error> failure;
  std::jthread backup([&] {  // joined on every way out of the test
    Progress progress;
    try {
      coordinator::run_backup(backup_request(url), *storage, progress);
    } catch (const Error& error) {
      failure = error;
    }
  });
  // A job exists once its status file does: not as soon as the jobs folder holds anything,
  // which may be the first status file's hidden temporary file (an agent killed before renaming
  // it never accepted the job, so the restarted agent rightly has no job to report lost).
  const auto job_exists = [&](const std::string& set) {
    return fs::exists(agents_[set]->data_dir() / "jobs") && !status_file_states(set).empty();
  };
  // The other shard's agent hangs (SIGSTOP) as soon as its job exists, so no set is given the
  // consistency point and the victim's job cannot end: it dies mid-dump or at the barrier. A
  // small dump takes a few tens of milliseconds, hence the tight polling.
  const std::string other = cluster_.shard_names()[0];
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!job_exists(other) && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const bool held = job_exists(other);
  if (held) agents_[other]->pause();
  const bool started = testing::eventually([&] { return job_exists(victim); }, std::chrono::seconds(30));
  if (started) agents_[victim]->kill_hard();
  if (held) agents_[other]->resume();
  backup.join();
  ASSERT_TRUE(held && started) << "the jobs never started";

  ASSERT_TRUE(failure.has_value()) << "the backup succeeded without one of its agents";
  EXPECT_NE(std::string(failure->what()).find(victim), std::string::npos) << "names the set: " << failure->what();
  catalog::Catalog catalog(*storage);
  EXPECT_TRUE(catalog.list().empty()) << "a failed backup is never listed";
  EXPECT_TRUE(catalog.list_incomplete().empty()) << "its leftovers were removed";

  agents_[victim]->restart();
  EXPECT_EQ(status_file_states(victim), std::vector<std::string>{"lost"}) << "the restarted agent reports the job it lost";
  Progress progress;
  const auto manifest = coordinator::run_backup(backup_request(url), *storage, progress);
  EXPECT_EQ(catalog.list().size(), 1u);
  EXPECT_EQ(catalog.list().front().id, manifest.id);
}

// The state an agent's status file gives a job, and whether the job published a rollback plan.
std::pair<std::string, bool> restore_job_state(const fs::path& jobs) {
  if (!fs::exists(jobs)) return {"", false};
  for (const auto& file : fs::directory_iterator(jobs)) {
    if (file.path().filename().string().starts_with(".") || file.path().string().find(".restore") == std::string::npos) continue;
    const auto status = nlohmann::json::parse(std::ifstream(file.path()), nullptr, /*allow_exceptions=*/false);
    if (status.is_object()) return {status.value("state", ""), status.value("result", nlohmann::json::object()).contains("rollback")};
  }
  return {"", false};
}

// Collections of a replica set whose names say they hold data set aside by a restore.
std::vector<std::string> holdings_on(const std::string& uri) {
  mongo::Client client{mongo::Uri(uri)};
  std::vector<std::string> holdings;
  for (const auto& [db, entry] : mongo::list_all_collections(client)) {
    const std::string name = mongo::BsonView(entry).string("name").value_or("");
    if (name.find(".shardsafe-hold-") != std::string::npos) holdings.push_back(db + "." + name);
  }
  return holdings;
}

TEST_F(AgentsTest, AnAgentKilledWhileItsRestoreAwaitsTheOthersIsRolledBackByTheCoordinator) {
  const std::string url = "file://" + (dir_.path() / "backups").string();
  auto storage = storage::open_storage(url);
  Progress progress;
  const auto manifest = coordinator::run_backup(backup_request(url), *storage, progress);
  const mongo::Uri mongos_uri(cluster_.mongos_uri());
  mongo::Client mongos(mongos_uri);
  testing::damage_cluster_dataset(mongos);
  const auto before = dump::fingerprint_cluster(mongos_uri);

  // shard1's primary refuses writes until unlocked, so its job cannot set its data aside: the
  // victim's job, on shard0, reaches the barrier and waits there for it.
  const std::string victim = cluster_.shard_names()[0];
  mongo::Client held{mongo::Uri(cluster_.shard_uris()[1])};
  held.command("admin", mongo::Bson::from_json(R"({"fsync": 1, "lock": true})"));
  std::optional<Error> failure;
  std::jthread restore = restore_in_background(manifest.id, url, *storage, failure);
  const fs::path jobs = agents_[victim]->data_dir() / "jobs";
  const bool awaiting = testing::eventually([&] { return restore_job_state(jobs) == std::pair<std::string, bool>{"awaiting", true}; },
                                            std::chrono::seconds(60));
  if (awaiting) agents_[victim]->kill_hard();
  held.command("admin", mongo::Bson::from_json(R"({"fsyncUnlock": 1})"));
  restore.join();
  ASSERT_TRUE(awaiting) << "the victim's restore job never waited at the barrier with its rollback plan";

  ASSERT_TRUE(failure.has_value()) << "the restore succeeded without one of its agents";
  EXPECT_NE(std::string(failure->what()).find(victim), std::string::npos) << "names the set: " << failure->what();
  EXPECT_EQ(dump::fingerprint_cluster(mongos_uri), before) << "every shard as it was, the dead agent's too";
  for (const auto& uri : cluster_.shard_uris()) EXPECT_EQ(holdings_on(uri), std::vector<std::string>{}) << uri;
}

TEST_F(AgentsTest, AnAgentKilledAfterTheCommitDecisionHasItsCommitFinishedByTheCoordinator) {
  const std::string url = "file://" + (dir_.path() / "backups").string();
  auto storage = storage::open_storage(url);
  Progress progress;
  const mongo::Uri mongos_uri(cluster_.mongos_uri());
  const auto original = dump::fingerprint_cluster(mongos_uri);
  const auto manifest = coordinator::run_backup(backup_request(url), *storage, progress);
  mongo::Client mongos(mongos_uri);
  testing::damage_cluster_dataset(mongos);

  // shard1 is held until the victim (shard0) awaits the decision; then the victim's primary is
  // held instead, so that its commit (dropping what it set aside) blocks once it began.
  const std::string victim = cluster_.shard_names()[0];
  mongo::Client victim_primary{mongo::Uri(cluster_.shard_uris()[0])};
  mongo::Client other_primary{mongo::Uri(cluster_.shard_uris()[1])};
  const auto lock = mongo::Bson::from_json(R"({"fsync": 1, "lock": true})");
  const auto unlock = mongo::Bson::from_json(R"({"fsyncUnlock": 1})");
  other_primary.command("admin", lock);
  std::optional<Error> failure;
  std::jthread restore = restore_in_background(manifest.id, url, *storage, failure);
  const fs::path jobs = agents_[victim]->data_dir() / "jobs";
  const bool awaiting = testing::eventually([&] { return restore_job_state(jobs).first == "awaiting"; }, std::chrono::seconds(60));
  victim_primary.command("admin", lock);
  other_primary.command("admin", unlock);
  const bool committing = awaiting && testing::eventually([&] { return restore_job_state(jobs).first == "running"; },
                                                          std::chrono::seconds(60));
  if (committing) agents_[victim]->kill_hard();
  victim_primary.command("admin", unlock);
  restore.join();
  ASSERT_TRUE(committing) << "the victim's job never took the commit decision";

  EXPECT_FALSE(failure.has_value()) << failure->what();
  EXPECT_EQ(dump::fingerprint_cluster(mongos_uri), original) << "every shard restored, the dead agent's too";
  for (const auto& uri : cluster_.shard_uris()) EXPECT_EQ(holdings_on(uri), std::vector<std::string>{}) << uri;
  const auto records = catalog::list_operations(*storage);
  const auto restore_record = std::find_if(records.begin(), records.end(), [](const auto& record) { return record.kind == "restore"; });
  ASSERT_NE(restore_record, records.end());
  EXPECT_EQ(restore_record->decision, "commit") << "recorded before any set was told";
  EXPECT_EQ(restore_record->state, "succeeded");
}

// A coordinator that dies after it decided cannot tell the sets: one that awaits its decision
// reads it from the operation's record once the coordinator has been silent too long.
class SilentCoordinatorTest : public AgentsTest {
 protected:
  // Starts, on shard0's agent, a restore job of shard0's part of a fresh backup into shard0 as
  // a coordinator would (operation `operation`), polls it until it awaits the decision, then
  // stops polling and waits for the job to end on its own. Returns its final state.
  std::string restore_shard0_without_a_coordinator(const std::string& operation) {
    const std::string shard = cluster_.shard_names()[0];
    catalog::ReplicaSetBackup set;
    for (const auto& candidate : manifest_.replica_sets) {
      if (candidate.shard == shard) set = candidate;
    }
    dump::RestoreOptions options;
    options.drop = true;
    const nlohmann::json params = {{"uri", cluster_.shard_uris()[0]},
                                   {"backup_id", manifest_.id},
                                   {"operation_id", operation},
                                   {"coordinator_timeout_s", 2},
                                   {"set", catalog::replica_set_backup_to_json(set)},
                                   {"options", agent::restore_options_json(options, {}, {}, {}, {})},
                                   {"storage", {{"url", url_}, {"settings", nlohmann::json::object()}}}};
    agent::AgentClient client({agents_[shard]->address(), settings_.token, ""});
    const std::string id = operation + "." + shard + ".restore";
    client.start({id, "restore", params});
    EXPECT_TRUE(testing::eventually([&] { return client.status(id).state == agent::JobState::kAwaiting; },
                                    std::chrono::seconds(60)));
    const fs::path jobs = agents_[shard]->data_dir() / "jobs";
    EXPECT_TRUE(testing::eventually(
        [&] {
          const std::string state = restore_job_state(jobs).first;
          return !state.empty() && agent::is_final(agent::parse_job_state(state));
        },
        std::chrono::seconds(60)));
    return restore_job_state(jobs).first;
  }

  void SetUp() override {
    AgentsTest::SetUp();
    storage_ = storage::open_storage(url_);
    Progress progress;
    backed_up_ = shard0_fingerprint();
    manifest_ = coordinator::run_backup(backup_request(url_), *storage_, progress);
    mongo::Client mongos{mongo::Uri(cluster_.mongos_uri())};
    testing::damage_cluster_dataset(mongos);
    damaged_ = shard0_fingerprint();
  }

  std::map<std::string, dump::CollectionFingerprint> shard0_fingerprint() const {
    mongo::Client shard0{mongo::Uri(cluster_.shard_uris()[0])};
    return dump::fingerprint(shard0);
  }

  const std::string url_ = "file://" + (dir_.path() / "backups").string();
  std::unique_ptr<storage::Storage> storage_;
  catalog::Manifest manifest_;
  std::map<std::string, dump::CollectionFingerprint> backed_up_, damaged_;
};

TEST_F(SilentCoordinatorTest, ACommitOnRecordIsCarriedOut) {
  catalog::OperationRecord record;
  record.id = "restore-committed";
  record.kind = "restore";
  record.state = "running";
  record.decision = "commit";
  catalog::save_operation(*storage_, record);

  EXPECT_EQ(restore_shard0_without_a_coordinator(record.id), "succeeded");
  EXPECT_EQ(shard0_fingerprint(), backed_up_) << "shard0 holds the backup's data";
  EXPECT_EQ(holdings_on(cluster_.shard_uris()[0]), std::vector<std::string>{}) << "the data set aside was dropped";
}

TEST_F(SilentCoordinatorTest, NoDecisionOnRecordRollsBack) {
  EXPECT_EQ(restore_shard0_without_a_coordinator("restore-undecided"), "cancelled");
  EXPECT_EQ(shard0_fingerprint(), damaged_) << "shard0 as it was";
  EXPECT_EQ(holdings_on(cluster_.shard_uris()[0]), std::vector<std::string>{});
}

}  // namespace
}  // namespace shardsafe

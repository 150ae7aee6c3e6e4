// Backup of a sharded cluster through mongos: every shard and the config server dumped, the
// balancer stopped for the duration and put back as it was, and every set's oplog captured up
// to one cluster time.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "catalog/catalog.h"
#include "coordinator/backup.h"
#include "coordinator/restore.h"
#include "dump/fingerprint.h"
#include "storage/open.h"
#include "support/sandbox.h"
#include "support/sandbox_cluster.h"

namespace shardsafe {
namespace {

using testing::SandboxReplSet;
using testing::SandboxShardedCluster;
using testing::TempDir;

std::string balancer_mode(mongo::Client& mongos) {
  const auto status = mongos.command("admin", mongo::BsonBuilder().append("balancerStatus", 1).build());
  return mongo::BsonView(status).string("mode").value_or("?");
}

TEST(ClusterBackup, EveryShardAndTheConfigServerLandOnOneConsistencyPoint) {
  SandboxShardedCluster cluster({.shards = 2, .members = 1, .config_members = 1});
  mongo::Client mongos{mongo::Uri(cluster.mongos_uri())};
  mongos.command("admin", mongo::Bson::from_json(R"({"enableSharding": "shop"})"));
  mongos.command("admin", mongo::Bson::from_json(R"({"shardCollection": "shop.orders", "key": {"_id": 1}})"));
  mongos.command("admin", mongo::Bson::from_json(R"({"split": "shop.orders", "middle": {"_id": 500}})"));
  std::vector<mongo::Bson> docs;
  for (int i = 0; i < 1000; ++i) docs.push_back(mongo::BsonBuilder().append("_id", i).append("v", i).build());
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& doc : docs) raw.push_back(doc.bytes());
  mongos.insert_many("shop", "orders", raw, true);
  // Put the upper chunk on the other shard, so both shards hold data.
  const auto& names = cluster.shard_names();
  for (const auto& shard : names) {
    try {
      mongos.command("admin", mongo::Bson::from_json(R"({"moveChunk": "shop.orders", "find": {"_id": 750}, "to": ")" + shard + R"("})"));
    } catch (const ServerError&) {
      // already there: the chunk lives on that shard
    }
  }
  mongos.command("admin", mongo::BsonBuilder().append("balancerStart", 1).build());
  ASSERT_NE(balancer_mode(mongos), "off");

  TempDir dir;
  auto storage = storage::open_storage("file://" + (dir.path() / "b").string());
  Progress progress;
  coordinator::BackupRequest request;
  request.uri = cluster.mongos_uri();
  const auto manifest = coordinator::run_backup(request, *storage, progress);

  EXPECT_EQ(manifest.topology, "sharded");
  ASSERT_EQ(manifest.replica_sets.size(), names.size() + 1);
  std::uint64_t orders = 0;
  for (const auto& set : manifest.replica_sets) {
    EXPECT_EQ(set.end_optime, manifest.consistency_point) << set.name;
    EXPECT_LE(set.start_optime, set.end_optime) << set.name;
    for (const auto& collection : set.collections) {
      if (collection.db == "shop" && collection.name == "orders") orders += collection.documents;
    }
  }
  EXPECT_EQ(orders, 1000u) << "the shards' dumps together hold every document once";
  const auto& config = manifest.replica_sets.back();
  EXPECT_EQ(config.shard, "config");
  const bool has_chunks = std::any_of(config.collections.begin(), config.collections.end(),
                                      [](const auto& c) { return c.db == "config" && c.name == "chunks"; });
  EXPECT_TRUE(has_chunks) << "the config server's sharding metadata is in the backup";
  EXPECT_NE(balancer_mode(mongos), "off") << "a running balancer is started again";

  // One shard's data restores into a plain replica set.
  SandboxReplSet target({.name = "one_shard", .members = 1});
  coordinator::RestoreRequest restore;
  restore.backup_id = manifest.id;
  restore.target_uri = target.uri();
  restore.replica_set = names.front();
  const auto summary = coordinator::run_restore(restore, *storage, progress);
  EXPECT_GT(summary.documents, 0u);
  EXPECT_LT(summary.documents, 1000u);
}

TEST(ClusterBackup, AStoppedBalancerStaysStopped) {
  SandboxShardedCluster cluster({.shards = 2, .members = 1, .config_members = 1});
  mongo::Client mongos{mongo::Uri(cluster.mongos_uri())};
  mongos.command("admin", mongo::BsonBuilder().append("balancerStop", 1).build());
  std::vector<mongo::Bson> docs = {mongo::BsonBuilder().append("_id", 1).build()};
  std::vector<std::span<const std::uint8_t>> raw = {docs[0].bytes()};
  mongos.insert_many("app", "c", raw, true);
  TempDir dir;
  auto storage = storage::open_storage("file://" + (dir.path() / "b").string());
  Progress progress;
  coordinator::BackupRequest request;
  request.uri = cluster.mongos_uri();
  coordinator::run_backup(request, *storage, progress);
  EXPECT_EQ(balancer_mode(mongos), "off");
}

}  // namespace
}  // namespace shardsafe

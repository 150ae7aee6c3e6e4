// Point-in-time restore of a whole sharded cluster: a write load through mongos (inserts on both
// shards, a chunk migration, updates as diffs and replacements, deletes, DDL, a cross-shard
// transaction that prepares and commits on both shards), incremental backups, and restores into
// fresh clusters of the same shape that must hold exactly the writes up to the chosen cluster time.
#include <gtest/gtest.h>

#include <thread>

#include "catalog/catalog.h"
#include "catalog/timeline.h"
#include "coordinator/backup.h"
#include "coordinator/cluster_dataset.h"
#include "coordinator/restore.h"
#include "dump/fingerprint.h"
#include "storage/open.h"
#include "support/sandbox.h"
#include "support/sandbox_cluster.h"

namespace shardsafe {
namespace {

using mongo::Timestamp;
using testing::SandboxShardedCluster;
using testing::TempDir;
using Fingerprint = std::map<std::string, dump::CollectionFingerprint>;

constexpr int kOrders = 200;

class ClusterPointInTimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::load_cluster_dataset(mongos_, cluster_.shard_names(), kOrders);
    // The test moves a chunk itself, at a known place among the writes; the balancer's own
    // migrations would only make the runs differ.
    testing::run(mongos_, "admin", R"({"balancerStop": 1})");
  }
  // Moves the upper chunk of shop.orders back to the database's primary shard. The config
  // server logs the chunk's new owner as a $v:2 diff, which the restore replays on the
  // metadata; the logical data does not change, so it is no point of its own.
  void move_upper_chunk_home() {
    const auto names = cluster_.shard_names();
    const std::string away = testing::other_shard(mongos_, "shop", names);
    const std::string home = away == names.at(0) ? names.at(1) : names.at(0);
    testing::run(mongos_, "admin", R"({"moveChunk": "shop.orders", "find": {"_id": )" + std::to_string(kOrders - 1) +
                                       R"(}, "to": ")" + home + R"(", "_waitForDelete": true})");
  }

  catalog::Manifest backup(bool incremental) {
    coordinator::BackupRequest request;
    request.uri = cluster_.mongos_uri();
    request.incremental = incremental;
    return coordinator::run_backup(request, *storage_, progress_);
  }
  // Runs a write through mongos and records its cluster time with the cluster's data then.
  void write(const std::string& db, const std::string& json) {
    const mongo::Bson reply = mongos_.command(db, mongo::Bson::from_json(json));
    remember(reply);
  }
  void remember(const mongo::Bson& reply) {
    const auto ts = mongo::BsonView(reply).timestamp("operationTime");
    ASSERT_TRUE(ts.has_value()) << reply.canonical_json();
    points_.emplace_back(*ts, dump::fingerprint_cluster(mongo::Uri(cluster_.mongos_uri())));
  }
  // Two inserts, one on each shard, in one transaction.
  void cross_shard_transaction() {
    const std::string session = R"("lsid": {"id": {"$binary": {"base64": "q83vEjRWeJCrze8SNFZ4kA==", "subType": "04"}}}, )"
                                R"("txnNumber": {"$numberLong": "1"}, "autocommit": false)";
    testing::run(mongos_, "shop", R"({"insert": "orders", "documents": [{"_id": -10, "total": 1}, {"_id": )" +
                                      std::to_string(kOrders + 10) + R"(, "total": 2}], )" + session + R"(, "startTransaction": true})");
    remember(mongos_.command("admin", mongo::Bson::from_json(R"({"commitTransaction": 1, )" + session + "}")));
  }
  Fingerprint restored_at(Timestamp to) {
    SandboxShardedCluster target({.shards = 2, .members = 1, .config_members = 1});
    coordinator::RestoreRequest request;
    request.to_time = to;
    request.target_uri = target.mongos_uri();
    request.options.drop = true;
    coordinator::run_restore(request, *storage_, progress_);
    return dump::fingerprint_cluster(mongo::Uri(target.mongos_uri()));
  }

  SandboxShardedCluster cluster_{{.shards = 2, .members = 1, .config_members = 1}};
  mongo::Client mongos_{mongo::Uri(cluster_.mongos_uri())};
  TempDir dir_;
  std::unique_ptr<storage::Storage> storage_ = storage::open_storage("file://" + (dir_.path() / "backups").string());
  Progress progress_;
  std::vector<std::pair<Timestamp, Fingerprint>> points_;
};

TEST_F(ClusterPointInTimeTest, EveryShardLandsOnTheSameClusterTime) {
  const auto full = backup(false);
  write("shop", R"({"insert": "orders", "documents": [{"_id": -1, "total": 5}, {"_id": )" + std::to_string(kOrders + 1) + R"(, "total": 6}]})");
  move_upper_chunk_home();
  write("shop", R"({"update": "orders", "updates": [{"q": {"_id": {"$in": [0, )" + std::to_string(kOrders - 1) +
                    R"(]}}, "u": {"$set": {"total": 100}, "$inc": {"visits": 1}}, "multi": true}]})");
  write("shop", R"({"update": "customers", "updates": [{"q": {"_id": 7}, "u": {"name": "replaced", "vip": true}}]})");
  const auto first = backup(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the next write in a later second
  write("shop", R"({"delete": "orders", "deletes": [{"q": {"_id": {"$in": [1, )" + std::to_string(kOrders - 2) + R"(]}}, "limit": 0}]})");
  write("metrics", R"({"create": "daily"})");
  write("metrics", R"({"insert": "daily", "documents": [{"_id": "d1"}]})");
  cross_shard_transaction();
  const auto second = backup(true);
  write("metrics", R"({"drop": "events"})");
  const auto third = backup(true);
  EXPECT_EQ(third.base, second.id);
  EXPECT_EQ(second.base, first.id);
  EXPECT_EQ(first.base, full.id);
  EXPECT_EQ(first.replica_sets.size(), 3u);  // both shards and the config server

  catalog::Catalog catalog(*storage_);
  const auto timeline = catalog::build_timeline(catalog);
  ASSERT_EQ(timeline.windows.size(), 1u);
  EXPECT_EQ(timeline.windows[0].to, third.consistency_point);

  // Each point's data differs from the next one's: restoring to the wrong point cannot pass.
  for (std::size_t i = 1; i < points_.size(); ++i) EXPECT_NE(points_[i - 1].second, points_[i].second) << "write " << i;
  // Inside the first increment; between the update and the delete (in the second slice, at a
  // time no write has); exactly at the cross-shard transaction's commit; the end.
  EXPECT_EQ(restored_at(points_[1].first), points_[1].second) << "after the chunk migration and the update";
  const Timestamp before_delete{points_[3].first.seconds, 0};
  ASSERT_LT(points_[2].first, before_delete);
  EXPECT_EQ(restored_at(before_delete), points_[2].second) << "before the delete";
  EXPECT_EQ(restored_at(points_[6].first), points_[6].second) << "at the transaction's commit";
  EXPECT_EQ(restored_at(third.consistency_point), points_.back().second) << "at the end";
}

}  // namespace
}  // namespace shardsafe

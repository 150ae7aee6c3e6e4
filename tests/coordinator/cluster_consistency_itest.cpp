// The consistency point of a cluster backup, checked against the cluster time of every
// acknowledged write: a write load through mongos runs during the backup, each insert's
// operationTime is recorded, and after a restore every shard holds exactly the writes at or
// before the backup's consistency point T, and none after.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "catalog/manifest.h"
#include "coordinator/backup.h"
#include "coordinator/cluster_dataset.h"
#include "coordinator/restore.h"
#include "storage/open.h"
#include "support/sandbox_cluster.h"

namespace shardsafe {
namespace {

using testing::SandboxShardedCluster;
using testing::TempDir;

constexpr int kIdSpace = 1'000'000;

struct AcknowledgedWrite {
  int id;
  mongo::Timestamp cluster_time;
};

// Inserts one document at a time through mongos, alternating between the two chunks' ranges,
// until stopped; returns each acknowledged insert with its operationTime.
std::vector<AcknowledgedWrite> write_until(const std::string& mongos_uri, const std::atomic<bool>& stop) {
  mongo::Client mongos{mongo::Uri(mongos_uri)};
  std::vector<AcknowledgedWrite> written;
  for (int i = 0; !stop; ++i) {
    const int id = (i % 2 == 0) ? i : kIdSpace / 2 + i;
    const mongo::Bson reply = mongos.command(
        "load", mongo::BsonBuilder()
                    .append("insert", "items")
                    .append_array("documents", std::vector<mongo::Bson>{mongo::BsonBuilder().append("_id", id).append("n", i).build()})
                    .build());
    const auto time = mongo::BsonView(reply).timestamp("operationTime");
    if (!time) throw std::runtime_error("an insert through mongos answered without operationTime");
    written.push_back({id, *time});
  }
  return written;
}

std::set<int> ids_in(const std::string& mongos_uri) {
  mongo::Client mongos{mongo::Uri(mongos_uri)};
  std::set<int> ids;
  mongo::Cursor cursor = mongos.find("load", "items", mongo::Bson());
  while (const bson_t* document = cursor.next()) ids.insert(static_cast<int>(mongo::BsonView(document).integer("_id").value_or(-1)));
  return ids;
}

TEST(ClusterConsistency, EveryShardHoldsExactlyTheWritesAtOrBeforeTheConsistencyPoint) {
  SandboxShardedCluster source({.shards = 2, .members = 1, .config_members = 1});
  mongo::Client mongos{mongo::Uri(source.mongos_uri())};
  testing::run(mongos, "admin", R"({"enableSharding": "load"})");
  testing::run(mongos, "admin", R"({"shardCollection": "load.items", "key": {"_id": 1}})");
  testing::run(mongos, "admin", R"({"split": "load.items", "middle": {"_id": )" + std::to_string(kIdSpace / 2) + "}}");
  testing::run(mongos, "admin", R"({"moveChunk": "load.items", "find": {"_id": )" + std::to_string(kIdSpace - 1) + R"(}, "to": ")" +
                                     testing::other_shard(mongos, "load", source.shard_names()) + R"("})");
  // Some bulk, so the dump takes a while and the writes overlap it.
  std::vector<mongo::Bson> bulk;
  for (int i = 0; i < 20000; ++i) bulk.push_back(mongo::BsonBuilder().append("_id", i).append("pad", std::string(500, 'p')).build());
  testing::insert_documents(mongos, "load", "bulk", bulk);

  std::atomic<bool> stop{false};
  std::vector<AcknowledgedWrite> written;
  TempDir dir;
  auto storage = storage::open_storage("file://" + (dir.path() / "b").string());
  Progress progress;
  catalog::Manifest manifest;
  {
    std::jthread writer([&] { written = write_until(source.mongos_uri(), stop); });
    // Stops the writer on every way out of this block, a failed backup included.
    const std::unique_ptr<std::atomic<bool>, void (*)(std::atomic<bool>*)> stop_writer(&stop, [](std::atomic<bool>* flag) { *flag = true; });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    coordinator::BackupRequest backup;
    backup.uri = source.mongos_uri();
    manifest = coordinator::run_backup(backup, *storage, progress);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  const mongo::Timestamp t = manifest.consistency_point;
  std::set<int> expected;
  std::size_t after = 0;
  for (const auto& write : written) {
    if (write.cluster_time <= t) expected.insert(write.id);
    else ++after;
  }
  ASSERT_GT(expected.size(), 0u) << "writes acknowledged before T";
  ASSERT_GT(after, 0u) << "writes acknowledged after T: the load overlapped the backup";

  SandboxShardedCluster target({.shards = 2, .members = 1, .config_members = 1});
  coordinator::RestoreRequest restore;
  restore.backup_id = manifest.id;
  restore.target_uri = target.mongos_uri();
  coordinator::run_restore(restore, *storage, progress);

  EXPECT_EQ(ids_in(target.mongos_uri()), expected) << written.size() << " writes, " << expected.size() << " at or before T "
                                                    << t.to_string();
}

}  // namespace
}  // namespace shardsafe

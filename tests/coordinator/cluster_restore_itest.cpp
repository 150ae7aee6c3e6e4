// Whole sharded-cluster restore through a mongos, in-process jobs: onto the live cluster with
// --drop, into a fresh cluster of the same shape, for some namespaces only, and rolled back
// everywhere when one shard fails.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "catalog/catalog.h"
#include "coordinator/backup.h"
#include "coordinator/lock.h"
#include "coordinator/restore.h"
#include "coordinator/cluster_dataset.h"
#include "dump/fingerprint.h"
#include "mongo/topology.h"
#include "storage/open.h"
#include "support/damage.h"
#include "support/sandbox_cluster.h"

namespace shardsafe {
namespace {

namespace fs = std::filesystem;
using testing::SandboxShardedCluster;
using testing::TempDir;

constexpr int kOrders = 2000;

std::string balancer_mode(mongo::Client& mongos) {
  return mongo::BsonView(mongos.command("admin", mongo::BsonBuilder().append("balancerStatus", 1).build())).string("mode").value_or("?");
}

// Every document of config.<collection>, as canonical JSON: the sharding metadata a rollback
// must leave as it was.
std::vector<std::string> config_documents(const std::string& config_uri, const std::string& collection) {
  mongo::Client config{mongo::Uri(config_uri)};
  std::vector<std::string> out;
  mongo::Cursor cursor = config.find("config", collection, mongo::Bson());
  while (const bson_t* document = cursor.next()) out.push_back(mongo::Bson::copy_of(document).canonical_json());
  std::sort(out.begin(), out.end());
  return out;
}

std::string collection_uuid(const std::string& uri, const std::string& db, const std::string& name) {
  mongo::Client client{mongo::Uri(uri)};
  for (const auto& [listed_db, entry] : mongo::list_all_collections(client)) {
    if (listed_db == db && mongo::BsonView(entry).string("name") == name) return mongo::BsonView(entry).uuid("info.uuid").value_or("");
  }
  return "";
}

class ClusterRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mongo::Client mongos{mongo::Uri(cluster_.mongos_uri())};
    testing::load_cluster_dataset(mongos, cluster_.shard_names(), kOrders);
  }

  catalog::Manifest backup() {
    coordinator::BackupRequest request;
    request.uri = cluster_.mongos_uri();
    return coordinator::run_backup(request, *storage_, progress_);
  }

  dump::RestoreSummary restore(const std::string& id, const std::string& mongos_uri, std::vector<std::string> include = {}) {
    coordinator::RestoreRequest request;
    request.backup_id = id;
    request.target_uri = mongos_uri;
    request.options.drop = true;
    request.namespaces.include = std::move(include);
    return coordinator::run_restore(request, *storage_, progress_);
  }

  SandboxShardedCluster cluster_{{.shards = 2, .members = 1, .config_members = 1}};
  TempDir dir_;
  std::unique_ptr<storage::Storage> storage_ = storage::open_storage("file://" + (dir_.path() / "backups").string());
  Progress progress_;
};

TEST_F(ClusterRestoreTest, OntoTheLiveClusterWithDropEveryShardAndTheRoutedViewComeBack) {
  const mongo::Uri mongos_uri(cluster_.mongos_uri());
  mongo::Client mongos(mongos_uri);
  const auto original = dump::fingerprint_cluster(mongos_uri);
  ASSERT_TRUE(original.contains("mongos shop.orders"));
  ASSERT_TRUE(original.contains("shard0 shop.orders") && original.contains("shard1 shop.orders")) << "orders live on both shards";
  const auto manifest = backup();
  testing::damage_cluster_dataset(mongos);
  ASSERT_NE(dump::fingerprint_cluster(mongos_uri), original);
  testing::run(mongos, "admin", R"({"balancerStart": 1})");

  const auto summary = restore(manifest.id, cluster_.mongos_uri());

  EXPECT_EQ(dump::fingerprint_cluster(mongos_uri), original);
  EXPECT_EQ(summary.documents, static_cast<std::uint64_t>(kOrders + 100 + 50));
  EXPECT_NE(balancer_mode(mongos), "off") << "the balancer runs again, as it did before the restore";
  // Routed reads reach the restored chunks on both shards, by their new UUID.
  const auto count = mongos.command("shop", mongo::Bson::from_json(R"({"count": "orders", "query": {"_id": {"$gte": 1500}}})"));
  EXPECT_EQ(mongo::BsonView(count).integer("n"), 500);
  const std::string uuid = collection_uuid(cluster_.shard_uris()[0], "shop", "orders");
  EXPECT_EQ(uuid, collection_uuid(cluster_.shard_uris()[1], "shop", "orders")) << "one UUID on every shard";
  mongo::Client config{mongo::Uri(cluster_.config_uri())};
  mongo::Cursor entry = config.find("config", "collections", mongo::BsonBuilder().append("_id", "shop.orders").build());
  const bson_t* collection = entry.next();
  ASSERT_NE(collection, nullptr);
  EXPECT_EQ(mongo::BsonView(collection).uuid("uuid"), uuid) << "and the same in the config server's metadata";
  // Nothing set aside is left behind.
  for (const auto& shard : cluster_.shard_uris()) {
    mongo::Client client{mongo::Uri(shard)};
    for (const auto& [db, listing] : mongo::list_all_collections(client)) {
      EXPECT_EQ(mongo::BsonView(listing).string("name").value_or("").find("shardsafe-hold"), std::string::npos) << db;
    }
  }
}

TEST_F(ClusterRestoreTest, IntoAFreshClusterOfTheSameShapeWithTheBackupsUuids) {
  const auto original = dump::fingerprint_cluster(mongo::Uri(cluster_.mongos_uri()));
  const std::string source_uuid = collection_uuid(cluster_.shard_uris()[0], "shop", "orders");
  const auto manifest = backup();
  SandboxShardedCluster fresh({.shards = 2, .members = 1, .config_members = 1});

  restore(manifest.id, fresh.mongos_uri());

  EXPECT_EQ(dump::fingerprint_cluster(mongo::Uri(fresh.mongos_uri())), original);
  EXPECT_EQ(collection_uuid(fresh.shard_uris()[0], "shop", "orders"), source_uuid);
  EXPECT_EQ(collection_uuid(fresh.shard_uris()[1], "shop", "orders"), source_uuid);
  EXPECT_EQ(config_documents(fresh.config_uri(), "chunks").size(), 2u) << "both chunks, on the shards they were on";
}

TEST_F(ClusterRestoreTest, OnlyTheIncludedNamespacesChange) {
  const mongo::Uri mongos_uri(cluster_.mongos_uri());
  mongo::Client mongos(mongos_uri);
  const auto manifest = backup();
  const auto original = dump::fingerprint_cluster(mongos_uri);
  testing::damage_cluster_dataset(mongos);
  const auto damaged = dump::fingerprint_cluster(mongos_uri);

  restore(manifest.id, cluster_.mongos_uri(), {"shop.orders"});

  const auto after = dump::fingerprint_cluster(mongos_uri);
  for (const auto& [ns, print] : after) {
    if (ns.ends_with(" shop.orders")) {
      EXPECT_EQ(print, original.at(ns)) << ns << " is restored";
    } else {
      EXPECT_EQ(print, damaged.at(ns)) << ns << " is left as it was";
    }
  }
  EXPECT_FALSE(after.contains("mongos metrics.events")) << "a namespace not included is not brought back";
}

TEST_F(ClusterRestoreTest, AFailureOnOneShardLeavesEverySetAsItWas) {
  const mongo::Uri mongos_uri(cluster_.mongos_uri());
  mongo::Client mongos(mongos_uri);
  const auto manifest = backup();
  testing::damage_cluster_dataset(mongos);
  const auto before = dump::fingerprint_cluster(mongos_uri);
  const auto chunks_before = config_documents(cluster_.config_uri(), "chunks");
  const auto collections_before = config_documents(cluster_.config_uri(), "collections");
  // Damage shard1's orders in storage: shard1's job fails while reading it, shard0's has
  // restored its part by then or does so meanwhile; both must roll back.
  std::string damaged_key;
  for (const auto& set : manifest.replica_sets) {
    for (const auto& collection : set.collections) {
      if (set.shard == cluster_.shard_names()[1] && collection.name == "orders") damaged_key = collection.data.parts.front().key;
    }
  }
  ASSERT_FALSE(damaged_key.empty());
  testing::flip_middle_byte(dir_.path() / "backups" / damaged_key);

  try {
    restore(manifest.id, cluster_.mongos_uri());
    FAIL() << "expected the damaged object to fail the restore";
  } catch (const Error& error) {
    EXPECT_TRUE(error.code() == ErrorCode::kChecksumMismatch || error.code() == ErrorCode::kCorruptData) << error.what();
    EXPECT_NE(std::string(error.what()).find(damaged_key), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("every replica set"), std::string::npos) << "names every set's state: " << error.what();
  }
  EXPECT_EQ(dump::fingerprint_cluster(mongos_uri), before) << "every shard and the routed view as they were";
  EXPECT_EQ(config_documents(cluster_.config_uri(), "chunks"), chunks_before);
  EXPECT_EQ(config_documents(cluster_.config_uri(), "collections"), collections_before);
}

std::vector<std::string> user_names(const std::string& config_uri) {
  mongo::Client config{mongo::Uri(config_uri)};
  std::vector<std::string> names;
  mongo::Cursor cursor = config.find("admin", "system.users", mongo::Bson());
  while (const bson_t* user = cursor.next()) names.push_back(mongo::BsonView(user).string("user").value_or(""));
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(ClusterRestoreTest, TheClustersUsersOnTheConfigServerComeBack) {
  // Users of a sharded cluster live on its config server (mongos stores them there).
  mongo::Client config{mongo::Uri(cluster_.config_uri())};
  config.command("admin", mongo::Bson::from_json(R"({"createUser": "alice", "pwd": "first", "roles": ["readAnyDatabase"]})"));
  const auto manifest = backup();
  config.command("admin", mongo::Bson::from_json(R"({"dropUser": "alice"})"));
  config.command("admin", mongo::Bson::from_json(R"({"createUser": "mallory", "pwd": "x", "roles": []})"));

  const auto summary = restore(manifest.id, cluster_.mongos_uri());

  EXPECT_TRUE(summary.users_and_roles);
  EXPECT_EQ(user_names(cluster_.config_uri()), std::vector<std::string>{"alice"}) << "with --drop the backup's users replace the target's";
}

TEST_F(ClusterRestoreTest, ASecondOperationIsRefusedNamingTheHolder) {
  const auto manifest = backup();
  coordinator::OperationLock held(mongo::Uri(cluster_.config_uri()), "restore");
  try {
    backup();
    FAIL() << "a backup ran while another operation held the lock";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kConflict);
    EXPECT_NE(std::string(error.what()).find("another shardsafe restore holds the lock"), std::string::npos) << error.what();
  }
  EXPECT_EQ(catalog::Catalog(*storage_).list().size(), 1u) << "the refused backup is not listed";
}

TEST_F(ClusterRestoreTest, AShardedBackupNeedsAMongosTarget) {
  const auto manifest = backup();
  try {
    restore(manifest.id, cluster_.shard_uris()[0]);
    FAIL() << "a sharded backup was restored into one replica set without --replica-set";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(error.what()).find("mongos"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace shardsafe

// The sandbox's sharded cluster driven with libmongoc (through src/mongo): the router's
// identity and metadata, routing of writes and reads by shard key, errors in MongoDB's shape,
// and a shard that keeps serving through mongos after its primary is killed.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/error.h"
#include "mongo/client.h"
#include "support/sandbox_cluster.h"

namespace shardsafe {
namespace {

using mongo::Bson;
using mongo::BsonBuilder;
using mongo::BsonView;
using mongo::Client;
using mongo::Uri;
using testing::SandboxShardedCluster;
using namespace std::chrono_literals;

Bson command_of(std::string_view name, std::string_view value) { return BsonBuilder().append(name, value).build(); }

// The server error code a command fails with (0 when it succeeds).
int error_code_of(Client& client, const std::string& db, const Bson& command) {
  try {
    client.command(db, command);
    return 0;
  } catch (const ServerError& error) {
    return error.server_code();
  }
}

std::int64_t count_on(Client& client, const std::string& db, const std::string& collection, const Bson& query = {}) {
  Bson reply = client.command(db, BsonBuilder().append("count", collection).append("query", query).build());
  return BsonView(reply).integer("n").value_or(-1);
}

void insert_range(Client& client, const std::string& db, const std::string& collection, int from, int to) {
  std::vector<Bson> docs;
  for (int i = from; i < to; ++i) docs.push_back(BsonBuilder().append("_id", i).append("k", i).build());
  Bson majority = BsonBuilder().append("w", "majority").build();
  Bson reply = client.command(db, BsonBuilder().append("insert", collection).append_array("documents", docs)
                                      .append("writeConcern", majority).build());
  ASSERT_EQ(BsonView(reply).integer("n"), to - from) << reply.relaxed_json();
}

void shard_collection(Client& mongos, const std::string& ns) {
  mongos.command("admin", command_of("enableSharding", ns.substr(0, ns.find('.'))));
  mongos.command("admin", BsonBuilder().append("shardCollection", ns).append("key", BsonBuilder().append("k", 1).build()).build());
}

class ShardedClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new SandboxShardedCluster({.shards = 2, .members = 1, .config_members = 1}); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static SandboxShardedCluster* cluster_;  // one cluster for the suite: start-up is the slow part
};
SandboxShardedCluster* ShardedClusterTest::cluster_ = nullptr;

TEST_F(ShardedClusterTest, MongosIdentifiesAsRouterAndConfigServerAsConfigsvr) {
  Client mongos(Uri(cluster_->mongos_uri()));
  Bson hello = mongos.command("admin", BsonBuilder().append("hello", 1).build());
  EXPECT_EQ(BsonView(hello).string("msg"), "isdbgrid");
  EXPECT_FALSE(BsonView(hello).has("setName"));

  Client config(Uri(cluster_->config_uri()));
  Bson config_hello = config.command("admin", BsonBuilder().append("hello", 1).build());
  EXPECT_EQ(BsonView(config_hello).integer("configsvr"), 2);
  EXPECT_EQ(count_on(config, "config", "shards"), 2);
}

TEST_F(ShardedClusterTest, WritesLandOnTheShardOwningTheirChunk) {
  Client mongos(Uri(cluster_->mongos_uri()));
  shard_collection(mongos, "route.c");
  mongos.command("admin", BsonBuilder().append("balancerStop", 1).build());
  mongos.command("admin", BsonBuilder().append("split", "route.c").append("middle", BsonBuilder().append("k", 500).build()).build());
  Bson database = mongos.command("config", BsonBuilder().append("find", "databases")
                                               .append("filter", command_of("_id", "route")).build());
  std::string primary = BsonView(BsonView(database).documents("cursor.firstBatch").at(0)).string("primary").value();
  std::string other = primary == "shard0" ? "shard1" : "shard0";
  mongos.command("admin", BsonBuilder().append("moveChunk", "route.c").append("find", BsonBuilder().append("k", 700).build())
                              .append("to", other).append("_waitForDelete", true).build());
  insert_range(mongos, "route", "c", 0, 1000);

  for (std::size_t i = 0; i < cluster_->shard_names().size(); ++i) {
    Client shard(Uri(cluster_->shard_uris()[i]));
    bool holds_low = cluster_->shard_names()[i] == primary;
    Bson low = BsonBuilder().append("k", BsonBuilder().append("$lt", 500).build()).build();
    Bson high = BsonBuilder().append("k", BsonBuilder().append("$gte", 500).build()).build();
    EXPECT_EQ(count_on(shard, "route", "c", low), holds_low ? 500 : 0) << cluster_->shard_names()[i];
    EXPECT_EQ(count_on(shard, "route", "c", high), holds_low ? 0 : 500) << cluster_->shard_names()[i];
  }
  EXPECT_EQ(count_on(mongos, "route", "c"), 1000);
  // A scatter-gather count with skip and limit applies them to the cluster-wide total.
  Bson limited = mongos.command("route", BsonBuilder().append("count", "c").append("skip", 400).append("limit", 300).build());
  EXPECT_EQ(BsonView(limited).integer("n"), 300);
}

TEST_F(ShardedClusterTest, ErrorsHaveMongoDBsShape) {
  Client mongos(Uri(cluster_->mongos_uri()));
  shard_collection(mongos, "errors.c");
  EXPECT_EQ(error_code_of(mongos, "admin", BsonBuilder().append("moveChunk", "errors.c")
                                               .append("find", BsonBuilder().append("k", 1).build())
                                               .append("to", "no-such-shard").build()),
            70);  // ShardNotFound
  EXPECT_EQ(error_code_of(mongos, "admin", BsonBuilder().append("split", "errors.nope")
                                               .append("middle", BsonBuilder().append("k", 1).build()).build()),
            118);  // NamespaceNotSharded
  EXPECT_EQ(error_code_of(mongos, "admin", BsonBuilder().append("noSuchCommand", 1).build()), 59);
  Bson upsert = BsonBuilder().append("update", "c").append_array("updates", {BsonBuilder()
      .append("q", BsonBuilder().append("other", 1).build())
      .append("u", BsonBuilder().append("$set", BsonBuilder().append("x", 1).build()).build())
      .append("upsert", true).build()}).build();
  EXPECT_EQ(error_code_of(mongos, "errors", upsert), 61);  // ShardKeyNotFound
}

TEST_F(ShardedClusterTest, ListDatabasesAndCollectionsSpanTheCluster) {
  Client mongos(Uri(cluster_->mongos_uri()));
  mongos.command("admin", BsonBuilder().append("enableSharding", "lists_a").append("primaryShard", "shard0").build());
  mongos.command("admin", BsonBuilder().append("enableSharding", "lists_b").append("primaryShard", "shard1").build());
  insert_range(mongos, "lists_a", "one", 0, 3);
  insert_range(mongos, "lists_b", "two", 0, 3);
  Bson databases = mongos.command("admin", BsonBuilder().append("listDatabases", 1).build());
  std::vector<std::string> names;
  for (const Bson& db : BsonView(databases).documents("databases")) names.push_back(BsonView(db).string("name").value());
  EXPECT_NE(std::find(names.begin(), names.end(), "lists_a"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "lists_b"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "config"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "local"), names.end());
  Bson collections = mongos.command("lists_b", BsonBuilder().append("listCollections", 1).build());
  auto batch = BsonView(collections).documents("cursor.firstBatch");
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(BsonView(batch[0]).string("name"), "two");
}

// Needs 3-member shards: its own cluster.
TEST(ShardedClusterFailover, ReadsAndWritesThroughMongosSurviveAShardPrimaryKill) {
  SandboxShardedCluster cluster({.shards = 2, .members = 3, .config_members = 1});
  Client mongos(Uri(cluster.mongos_uri()));
  mongos.command("admin", BsonBuilder().append("enableSharding", "fail").append("primaryShard", "shard0").build());
  insert_range(mongos, "fail", "c", 0, 100);

  int primary = -1;
  for (int i = 0; i < 3 && primary < 0; ++i) {
    Client member(Uri("mongodb://" + cluster.shard_members(0)[static_cast<std::size_t>(i)] + "/?directConnection=true"));
    if (BsonView(member.command("admin", BsonBuilder().append("hello", 1).build())).boolean("isWritablePrimary") == true) primary = i;
  }
  ASSERT_GE(primary, 0) << "shard0 has no primary";
  cluster.kill_member(0, primary);

  // The router follows the election: within the deadline a write and a read both succeed.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  bool written = false;
  while (!written && std::chrono::steady_clock::now() < deadline) {
    try {
      Bson reply = mongos.command("fail", BsonBuilder().append("insert", "c").append_array("documents", {
          BsonBuilder().append("_id", 100).append("k", 100).build()}).build());
      written = BsonView(reply).integer("n") == 1 || !BsonView(reply).documents("writeErrors").empty();
    } catch (const Error&) {
      std::this_thread::sleep_for(500ms);
    }
  }
  ASSERT_TRUE(written) << "no write through mongos succeeded within 60 s of killing shard0's primary";
  EXPECT_EQ(count_on(mongos, "fail", "c"), 101);
  cluster.restart_member(0, primary);
  Client restarted(Uri("mongodb://" + cluster.shard_members(0)[static_cast<std::size_t>(primary)] + "/?directConnection=true"));
  EXPECT_NO_THROW(restarted.command("admin", BsonBuilder().append("ping", 1).build()));
}

TEST(ShardedClusterRealBinaries, RealMongosIsARouterOverTheSameTopology) {
  SHARDSAFE_SKIP_UNLESS_REAL_BINARIES();
  SandboxShardedCluster cluster({.shards = 2, .members = 1, .config_members = 1});
  ASSERT_TRUE(cluster.uses_real_binaries());
  Client mongos(Uri(cluster.mongos_uri()));
  EXPECT_EQ(BsonView(mongos.command("admin", BsonBuilder().append("hello", 1).build())).string("msg"), "isdbgrid");
  Bson shards = mongos.command("admin", BsonBuilder().append("listShards", 1).build());
  EXPECT_EQ(BsonView(shards).documents("shards").size(), 2u);
}

}  // namespace
}  // namespace shardsafe

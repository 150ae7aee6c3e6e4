// Causal consistency against the real sandbox over TCP: every reply of a replica-set member and
// of mongos carries $clusterTime and operationTime, a gossiped $clusterTime advances the oplog,
// and readConcern afterClusterTime waits until a member has applied what the client saw.
// Commands go over raw sockets where the test must choose $clusterTime itself (drivers send
// their own).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "mongo/client.h"
#include "sandbox/raw_socket.h"
#include "support/eventually.h"
#include "support/sandbox.h"
#include "support/sandbox_cluster.h"

namespace shardsafe {
namespace {

using mongo::Bson;
using mongo::BsonBuilder;
using mongo::BsonView;
using mongo::Timestamp;
using testing::SandboxReplSet;
using testing::SandboxShardedCluster;

Bson json(std::string_view text) { return Bson::from_json(text); }

// `command` (which names its $db) sent as is to `host`; the reply as the server sent it.
Bson raw(const std::string& host, const Bson& command, long timeout_seconds = 5) {
  sandbox::Doc reply = testing::raw_command(
      host, sandbox::Doc::from_bytes(command.bytes().data(), command.bytes().size()), timeout_seconds);
  return Bson::from_bytes({reply.data(), reply.size()});
}

Bson gossip(Timestamp cluster_time) {
  Bson zero_hash = Bson::from_json(R"({"h": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "subType": "00"}}})");
  bson_iter_t hash;
  BsonView(zero_hash).find("h", &hash);
  Bson signature = BsonBuilder().append_iter("hash", &hash).append("keyId", std::int64_t{0}).build();
  return BsonBuilder().append("clusterTime", cluster_time).append("signature", signature).build();
}

// A cluster time well past anything the members have stamped yet, each call later than the
// last (earlier tests of a suite move the members' clocks ahead too).
Timestamp far_ahead() {
  static std::uint32_t calls = 0;
  return Timestamp{static_cast<std::uint32_t>(std::time(nullptr)) + 100000 + 1000 * ++calls, 7};
}

// Later than any time any test gossips.
constexpr Timestamp kBeyondEverything{0xffffff00u, 1};

// Asserts the shape an unauthenticated deployment sends: {clusterTime: Timestamp, signature:
// {hash: BinData(0, 20 zero bytes), keyId: Long(0)}} and an operationTime Timestamp.
void expect_logical_times(const Bson& reply) {
  BsonView view(reply);
  EXPECT_TRUE(view.timestamp("$clusterTime.clusterTime").has_value()) << reply.relaxed_json();
  EXPECT_TRUE(view.timestamp("operationTime").has_value()) << reply.relaxed_json();
  bson_iter_t hash, key_id;
  ASSERT_TRUE(view.find("$clusterTime.signature.hash", &hash)) << reply.relaxed_json();
  ASSERT_TRUE(BSON_ITER_HOLDS_BINARY(&hash));
  bson_subtype_t subtype;
  std::uint32_t length = 0;
  const std::uint8_t* bytes = nullptr;
  bson_iter_binary(&hash, &subtype, &length, &bytes);
  EXPECT_EQ(subtype, BSON_SUBTYPE_BINARY);
  ASSERT_EQ(length, 20u);
  EXPECT_EQ(std::count(bytes, bytes + length, 0), 20);
  ASSERT_TRUE(view.find("$clusterTime.signature.keyId", &key_id));
  EXPECT_TRUE(BSON_ITER_HOLDS_INT64(&key_id));
  EXPECT_EQ(bson_iter_int64(&key_id), 0);
}

// The ts of the oplog entry that inserted {_id: id} into ns, read from the member at `host`.
std::optional<Timestamp> insert_entry_ts(const std::string& host, const std::string& ns, int id) {
  Bson find = BsonBuilder().append("find", "oplog.rs")
                  .append("filter", BsonBuilder().append("ns", ns).append("op", "i").append("o._id", id).build())
                  .append("$readPreference", json(R"({"mode": "secondaryPreferred"})"))
                  .append("$db", "local").build();
  auto batch = BsonView(raw(host, find)).documents("cursor.firstBatch");
  if (batch.size() != 1) return std::nullopt;
  return BsonView(batch[0]).timestamp("ts");
}

Bson insert_one(const std::string& db, const std::string& collection, int id) {
  return BsonBuilder().append("insert", collection)
      .append_array("documents", std::vector<Bson>{BsonBuilder().append("_id", id).build()})
      .append("$db", db).build();
}

// Which of the set's members answer hello as writable primary, and which as secondary.
struct Roles {
  std::string primary;
  std::vector<std::string> secondaries;
  bool all_synced = true;  // every member has applied an oplog entry
};

Roles roles_of(const std::vector<std::string>& hosts) {
  Roles roles;
  for (const std::string& host : hosts) {
    Bson reply = raw(host, json(R"({"hello": 1, "$db": "admin"})"));
    BsonView hello(reply);
    if (hello.boolean("isWritablePrimary").value_or(false)) roles.primary = host;
    if (hello.boolean("secondary").value_or(false)) roles.secondaries.push_back(host);
    roles.all_synced = roles.all_synced && !hello.timestamp("lastWrite.opTime.ts").value_or(Timestamp{}).is_null();
  }
  return roles;
}

// Waits until the set has a primary and every other member is a secondary that has synced.
Roles settled_roles(const SandboxReplSet& set, std::size_t members) {
  Roles roles;
  EXPECT_TRUE(testing::eventually([&] {
    roles = roles_of(set.hosts());
    return !roles.primary.empty() && roles.secondaries.size() + 1 == members && roles.all_synced;
  }, std::chrono::seconds(20))) << "primary '" << roles.primary << "', " << roles.secondaries.size()
                                  << " secondaries, synced: " << roles.all_synced;
  return roles;
}

class ClusterTimeReplSet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    set_ = new SandboxReplSet(SandboxReplSet::Options{.name = "ct", .members = 3});
    roles_ = new Roles(settled_roles(*set_, 3));
  }
  static void TearDownTestSuite() {
    delete roles_;
    delete set_;
  }
  void SetUp() override { ASSERT_EQ(roles_->secondaries.size(), 2u) << "the set did not settle"; }
  static SandboxReplSet* set_;
  static Roles* roles_;
};

SandboxReplSet* ClusterTimeReplSet::set_ = nullptr;
Roles* ClusterTimeReplSet::roles_ = nullptr;

TEST_F(ClusterTimeReplSet, EveryReplyCarriesClusterTimeAndOperationTime) {
  Bson inserted = raw(roles_->primary, insert_one("ct", "shape", 1));
  ASSERT_EQ(BsonView(inserted).number("ok"), 1.0) << inserted.relaxed_json();
  expect_logical_times(inserted);
  expect_logical_times(raw(roles_->primary, json(R"({"find": "shape", "$db": "ct"})")));
  Bson unknown = raw(roles_->primary, json(R"({"noSuchCommand": 1, "$db": "ct"})"));
  EXPECT_EQ(BsonView(unknown).integer("code"), 59);
  expect_logical_times(unknown);
  Bson refused = raw(roles_->secondaries[0], insert_one("ct", "shape", 2));
  EXPECT_EQ(BsonView(refused).integer("code"), 10107);
  expect_logical_times(refused);
  expect_logical_times(raw(roles_->secondaries[0], json(R"({"ping": 1, "$db": "admin"})")));
}

TEST_F(ClusterTimeReplSet, OperationTimeOfAnInsertIsItsOplogEntrysTs) {
  Bson reply = raw(roles_->primary, insert_one("ct", "optime", 1));
  auto operation_time = BsonView(reply).timestamp("operationTime");
  ASSERT_TRUE(operation_time.has_value()) << reply.relaxed_json();
  EXPECT_EQ(insert_entry_ts(roles_->primary, "ct.optime", 1), operation_time);
  EXPECT_GE(BsonView(reply).timestamp("$clusterTime.clusterTime"), operation_time);
  Bson later = raw(roles_->primary, insert_one("ct", "optime", 2));
  EXPECT_GT(BsonView(later).timestamp("operationTime"), operation_time);
}

TEST_F(ClusterTimeReplSet, ClusterTimeSentAheadAdvancesTheOplog) {
  Timestamp ahead = far_ahead();
  Bson ping = BsonBuilder().append("ping", 1).append("$clusterTime", gossip(ahead)).append("$db", "admin").build();
  EXPECT_GE(BsonView(raw(roles_->primary, ping)).timestamp("$clusterTime.clusterTime"), ahead);
  Bson reply = raw(roles_->primary, insert_one("ct", "ahead", 1));
  auto entry_ts = insert_entry_ts(roles_->primary, "ct.ahead", 1);
  ASSERT_TRUE(entry_ts.has_value());
  EXPECT_GT(*entry_ts, ahead);
  EXPECT_EQ(BsonView(reply).timestamp("operationTime"), entry_ts);
}

TEST_F(ClusterTimeReplSet, AfterClusterTimeIsCheckedAgainstTheMembersClusterTime) {
  Bson beyond = BsonBuilder().append("find", "checks")
                    .append("readConcern", BsonBuilder().append("afterClusterTime", kBeyondEverything).build())
                    .append("$db", "ct").build();
  EXPECT_EQ(BsonView(raw(roles_->primary, beyond)).integer("code"), 72);
  Bson null_time = BsonBuilder().append("find", "checks")
                       .append("readConcern", BsonBuilder().append("afterClusterTime", Timestamp{}).build())
                       .append("$db", "ct").build();
  EXPECT_EQ(BsonView(raw(roles_->primary, null_time)).integer("code"), 72);
  Bson bad_level = json(R"({"find": "checks", "readConcern": {"level": "eventually"}, "$db": "ct"})");
  EXPECT_EQ(BsonView(raw(roles_->primary, bad_level)).integer("code"), 9);
}

// A read after a time gossiped to it but not yet written: a secondary waits (and gives up at
// maxTimeMS), a primary writes a no-op to reach it.
Bson read_after(Timestamp cluster_time, std::int64_t max_time_ms) {
  return BsonBuilder().append("find", "noop")
      .append("readConcern", BsonBuilder().append("level", "local").append("afterClusterTime", cluster_time).build())
      .append("maxTimeMS", max_time_ms).append("$clusterTime", gossip(cluster_time))
      .append("$readPreference", json(R"({"mode": "secondaryPreferred"})")).append("$db", "ct").build();
}

TEST_F(ClusterTimeReplSet, AfterClusterTimeAheadOfTheOplogTimesOutOnASecondary) {
  auto started = std::chrono::steady_clock::now();
  Bson reply = raw(roles_->secondaries[1], read_after(far_ahead(), 300));
  EXPECT_EQ(BsonView(reply).integer("code"), 50) << reply.relaxed_json();
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(300));
  expect_logical_times(reply);
}

TEST_F(ClusterTimeReplSet, AfterClusterTimeAheadOfTheOplogMakesAPrimaryWriteANoop) {
  Timestamp ahead = far_ahead();
  Bson reply = raw(roles_->primary, read_after(ahead, 5000));
  ASSERT_EQ(BsonView(reply).number("ok"), 1.0) << reply.relaxed_json();
  EXPECT_GE(BsonView(reply).timestamp("operationTime"), ahead);
  Bson noops = json(R"({"find": "oplog.rs", "filter": {"op": "n",
      "o.noop write for afterClusterTime read concern": 1}, "$db": "local"})");
  auto entries = BsonView(raw(roles_->primary, noops)).documents("cursor.firstBatch");
  ASSERT_FALSE(entries.empty());
  EXPECT_GT(BsonView(entries.back()).timestamp("ts"), ahead);
}

TEST(ClusterTimeSecondaryRead, AfterClusterTimeWaitsUntilALaggingSecondaryCatchesUp) {
  SandboxReplSet set(SandboxReplSet::Options{.name = "lag", .members = 3});
  Roles roles = settled_roles(set, 3);
  ASSERT_EQ(roles.secondaries.size(), 2u);
  const std::string lagging = roles.secondaries[0];
  const std::vector<std::string> hosts = set.hosts();
  int member = static_cast<int>(std::find(hosts.begin(), hosts.end(), lagging) - hosts.begin());
  set.kill_member(member);
  Bson inserted = raw(roles.primary, insert_one("lag", "c", 42));
  auto operation_time = BsonView(inserted).timestamp("operationTime");
  ASSERT_TRUE(operation_time.has_value()) << inserted.relaxed_json();
  set.restart_member(member);
  Bson read = BsonBuilder().append("find", "c").append("filter", json(R"({"_id": 42})"))
                  .append("readConcern", BsonBuilder().append("afterClusterTime", *operation_time).build())
                  .append("$clusterTime", gossip(*operation_time))
                  .append("$readPreference", json(R"({"mode": "secondary"})")).append("$db", "lag").build();
  Bson reply = raw(lagging, read, 60);
  ASSERT_EQ(BsonView(reply).number("ok"), 1.0) << reply.relaxed_json();
  EXPECT_EQ(BsonView(reply).documents("cursor.firstBatch").size(), 1u) << reply.relaxed_json();
  EXPECT_GE(BsonView(reply).timestamp("operationTime"), operation_time);
}

class ClusterTimeThroughMongos : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new SandboxShardedCluster(SandboxShardedCluster::Options{.shards = 1, .members = 3}); }
  static void TearDownTestSuite() { delete cluster_; }
  static std::string mongos_host() { return cluster_->mongos_uri().substr(std::string("mongodb://").size()); }
  static SandboxShardedCluster* cluster_;
};

SandboxShardedCluster* ClusterTimeThroughMongos::cluster_ = nullptr;

TEST_F(ClusterTimeThroughMongos, RepliesCarryTheTimesAndAnInsertsOperationTimeIsItsShardOplogTs) {
  Bson inserted = raw(mongos_host(), insert_one("viamongos", "c", 1));
  ASSERT_EQ(BsonView(inserted).number("ok"), 1.0) << inserted.relaxed_json();
  expect_logical_times(inserted);
  Bson unknown = raw(mongos_host(), json(R"({"noSuchCommand": 1, "$db": "viamongos"})"));
  EXPECT_EQ(BsonView(unknown).integer("code"), 59);
  expect_logical_times(unknown);
  expect_logical_times(raw(mongos_host(), json(R"({"hello": 1, "$db": "admin"})")));
  Roles shard = roles_of(cluster_->shard_members(0));
  EXPECT_EQ(insert_entry_ts(shard.primary, "viamongos.c", 1), BsonView(inserted).timestamp("operationTime"));
}

TEST_F(ClusterTimeThroughMongos, AClusterTimeSentToMongosReachesTheShards) {
  Timestamp ahead = far_ahead();
  Bson ping = BsonBuilder().append("ping", 1).append("$clusterTime", gossip(ahead)).append("$db", "admin").build();
  EXPECT_GE(BsonView(raw(mongos_host(), ping)).timestamp("$clusterTime.clusterTime"), ahead);
  Bson inserted = raw(mongos_host(), insert_one("viamongos", "ahead", 1));
  Roles shard = roles_of(cluster_->shard_members(0));
  auto entry_ts = insert_entry_ts(shard.primary, "viamongos.ahead", 1);
  ASSERT_TRUE(entry_ts.has_value());
  EXPECT_GT(*entry_ts, ahead);
  EXPECT_EQ(BsonView(inserted).timestamp("operationTime"), entry_ts);
}

}  // namespace
}  // namespace shardsafe

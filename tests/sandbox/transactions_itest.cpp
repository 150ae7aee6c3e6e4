// Multi-document transactions against the real sandbox over TCP: the oplog entries of a commit
// (one applyOps), of a prepared transaction (prepare, then commitTransaction or abortTransaction),
// what is visible when, write conflicts, the errors of a finished transaction, replication and
// journal replay of a committed transaction, and a cross-shard transaction through mongos.
// Transaction commands go over raw sockets: the test chooses the lsid and txnNumber itself.
#include <gtest/gtest.h>

#include <chrono>

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
using testing::SandboxReplSet;
using testing::SandboxShardedCluster;

Bson json(std::string_view text) { return Bson::from_json(text); }

Bson raw(const std::string& host, const Bson& command) {
  sandbox::Doc reply =
      testing::raw_command(host, sandbox::Doc::from_bytes(command.bytes().data(), command.bytes().size()), 10);
  return Bson::from_bytes({reply.data(), reply.size()});
}

// A client session sending transaction commands to one host with its own lsid.
class TxnSession {
 public:
  TxnSession(std::string host, char uuid_digit) : host_(std::move(host)) {
    lsid_ = R"({"id": {"$binary": {"base64": ")" + std::string(21, uuid_digit) + R"(A==", "subType": "04"}}})";
  }
  // `body` (a JSON command) as statement `txn_number` of the session's transaction.
  Bson run(const std::string& db, std::string body, bool start = false) {
    body.pop_back();
    body += R"(, "lsid": )" + lsid_ + R"(, "txnNumber": {"$numberLong": ")" + std::to_string(txn_number) +
            R"("}, "autocommit": false)" + (start ? R"(, "startTransaction": true)" : "") + R"(, "$db": ")" + db + "\"}";
    return raw(host_, json(body));
  }
  Bson commit() { return run("admin", R"({"commitTransaction": 1})"); }
  Bson abort() { return run("admin", R"({"abortTransaction": 1})"); }
  std::int64_t txn_number = 1;

 private:
  std::string host_;
  std::string lsid_;
};

std::vector<Bson> oplog_for(mongo::Client& client, const std::string& filter) {
  std::vector<Bson> entries;
  auto cursor = client.find("local", "oplog.rs", json(filter));
  while (const bson_t* entry = cursor.next()) entries.push_back(Bson::copy_of(entry));
  return entries;
}

std::int64_t count(mongo::Client& client, const std::string& db, const std::string& filter = "{}") {
  auto reply = client.command(db, json(R"({"count": "c", "query": )" + filter + "}"));
  return *BsonView(reply).integer("n");
}

bool has_label(const Bson& reply, const std::string& label) {
  bson_iter_t iter, labels;
  if (!BsonView(reply).find("errorLabels", &iter) || !bson_iter_recurse(&iter, &labels)) return false;
  while (bson_iter_next(&labels)) {
    if (BSON_ITER_HOLDS_UTF8(&labels) && label == bson_iter_utf8(&labels, nullptr)) return true;
  }
  return false;
}

std::int64_t code_of(const Bson& reply) { return BsonView(reply).integer("code").value_or(0); }

class SandboxTransactions : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { set_ = new SandboxReplSet(SandboxReplSet::Options{}); }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }
  std::string host() const { return set_->hosts()[0]; }
  static SandboxReplSet* set_;
};
SandboxReplSet* SandboxTransactions::set_ = nullptr;

TEST_F(SandboxTransactions, CommitLogsOneApplyOpsEntryAndOnlyThenShowsTheWrites) {
  mongo::Client client{mongo::Uri(set_->uri())};
  client.command("shape", json(R"({"insert": "c", "documents": [{"_id": 0, "v": 0}]})"));
  TxnSession session(host(), 'A');
  ASSERT_EQ(BsonView(session.run("shape", R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}]})", true)).integer("n"), 2);
  ASSERT_EQ(BsonView(session.run("shape", R"({"update": "c", "updates": [{"q": {"_id": 0}, "u": {"$set": {"v": 1}}}]})")).integer("nModified"), 1);
  Bson inside = session.run("shape", R"({"count": "c", "query": {}})");
  EXPECT_EQ(BsonView(inside).integer("n"), 3) << inside.relaxed_json();
  EXPECT_EQ(count(client, "shape"), 1) << "uncommitted inserts are invisible outside";
  EXPECT_EQ(count(client, "shape", R"({"v": 1})"), 0) << "an uncommitted update is invisible outside";

  Bson committed = session.commit();
  ASSERT_EQ(BsonView(committed).integer("ok"), 1) << committed.relaxed_json();
  EXPECT_EQ(count(client, "shape"), 3);
  EXPECT_EQ(count(client, "shape", R"({"v": 1})"), 1);

  EXPECT_TRUE(oplog_for(client, R"({"ns": "shape.c", "o._id": {"$in": [1, 2]}})").empty()) << "no standalone entries";
  auto entries = oplog_for(client, R"({"o.applyOps.ns": "shape.c"})");
  ASSERT_EQ(entries.size(), 1u);
  BsonView entry(entries[0]);
  EXPECT_EQ(entry.string("op"), "c");
  EXPECT_EQ(entry.string("ns"), "admin.$cmd");
  EXPECT_EQ(entry.integer("txnNumber"), 1);
  bson_iter_t id;
  EXPECT_TRUE(entry.find("lsid.id", &id) && BSON_ITER_HOLDS_BINARY(&id));
  EXPECT_EQ(entry.timestamp("prevOpTime.ts"), (mongo::Timestamp{0, 0}));
  EXPECT_EQ(entry.integer("prevOpTime.t"), -1);
  EXPECT_EQ(entry.integer("v"), 2);
  EXPECT_TRUE(entry.timestamp("ts").has_value());
  auto ops = entry.documents("o.applyOps");
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(BsonView(ops[0]).string("op"), "i");
  EXPECT_EQ(BsonView(ops[0]).integer("o._id"), 1);
  EXPECT_EQ(BsonView(ops[2]).string("op"), "u");
  EXPECT_EQ(BsonView(ops[2]).integer("o2._id"), 0);
  EXPECT_FALSE(BsonView(ops[0]).timestamp("ts").has_value()) << "inner operations carry no optime";

  EXPECT_EQ(BsonView(session.commit()).integer("ok"), 1) << "a retried commit succeeds";
  EXPECT_EQ(oplog_for(client, R"({"o.applyOps.ns": "shape.c"})").size(), 1u) << "and logs nothing";
  EXPECT_EQ(code_of(session.abort()), 256) << "TransactionCommitted";
}

TEST_F(SandboxTransactions, AbortLeavesNothingAndTheTransactionIsGone) {
  mongo::Client client{mongo::Uri(set_->uri())};
  TxnSession session(host(), 'B');
  session.run("gone", R"({"insert": "c", "documents": [{"_id": 1}]})", true);
  ASSERT_EQ(BsonView(session.abort()).integer("ok"), 1);
  EXPECT_EQ(count(client, "gone"), 0);
  EXPECT_TRUE(oplog_for(client, R"({"o.applyOps.ns": "gone.c"})").empty());
  Bson after = session.run("gone", R"({"find": "c"})");
  EXPECT_EQ(code_of(after), 251) << after.relaxed_json();
  EXPECT_TRUE(has_label(after, "TransientTransactionError"));
  EXPECT_EQ(code_of(session.commit()), 251);
  session.txn_number = 0;
  EXPECT_EQ(code_of(session.run("gone", R"({"find": "c"})", true)), 225) << "TransactionTooOld";
}

TEST_F(SandboxTransactions, ConcurrentWritesToOneDocumentConflict) {
  mongo::Client client{mongo::Uri(set_->uri())};
  client.command("conflict", json(R"({"insert": "c", "documents": [{"_id": 1, "v": 0}, {"_id": 2, "v": 0}]})"));
  TxnSession first(host(), 'C'), second(host(), 'D');
  first.run("conflict", R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"v": 1}}}]})", true);
  Bson clash = second.run("conflict", R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"v": 10}}}]})", true);
  EXPECT_EQ(code_of(clash), 112) << clash.relaxed_json();
  EXPECT_EQ(BsonView(clash).string("codeName"), "WriteConflict");
  EXPECT_TRUE(has_label(clash, "TransientTransactionError"));
  EXPECT_EQ(code_of(second.commit()), 251) << "the conflict aborted the second transaction";
  ASSERT_EQ(BsonView(first.commit()).integer("ok"), 1);
  EXPECT_EQ(count(client, "conflict", R"({"_id": 1, "v": 1})"), 1);

  // Document 2 changes outside after the third transaction's snapshot: writing it conflicts,
  // and the transaction never saw the change nor a document inserted meanwhile.
  TxnSession third(host(), 'E');
  third.run("conflict", R"({"find": "c"})", true);
  client.command("conflict", json(R"({"update": "c", "updates": [{"q": {"_id": 2}, "u": {"$set": {"v": 5}}}]})"));
  client.command("conflict", json(R"({"insert": "c", "documents": [{"_id": 3}]})"));
  EXPECT_EQ(BsonView(third.run("conflict", R"({"count": "c", "query": {}})")).integer("n"), 2);
  EXPECT_EQ(BsonView(third.run("conflict", R"({"count": "c", "query": {"v": 5}})")).integer("n"), 0);
  EXPECT_EQ(code_of(third.run("conflict", R"({"delete": "c", "deletes": [{"q": {"_id": 2}, "limit": 1}]})")), 112);
  EXPECT_EQ(count(client, "conflict"), 3);
}

TEST_F(SandboxTransactions, DdlIsRefusedAndNeedsAReplicaSet) {
  TxnSession session(host(), 'F');
  Bson drop = session.run("ddl", R"({"drop": "c"})", true);
  EXPECT_EQ(code_of(drop), 263) << drop.relaxed_json();
  Bson admin = session.run("admin", R"({"find": "c"})", true);
  EXPECT_EQ(code_of(admin), 263) << admin.relaxed_json();
}

TEST_F(SandboxTransactions, APreparedTransactionCommitsAtItsCommitTimestampOrAborts) {
  mongo::Client client{mongo::Uri(set_->uri())};
  TxnSession session(host(), 'G');
  session.run("prep", R"({"insert": "c", "documents": [{"_id": 1}]})", true);
  Bson prepared = session.run("admin", R"({"prepareTransaction": 1})");
  auto prepare_ts = BsonView(prepared).timestamp("prepareTimestamp");
  ASSERT_TRUE(prepare_ts.has_value()) << prepared.relaxed_json();
  auto prepares = oplog_for(client, R"({"o.prepare": true, "o.applyOps.ns": "prep.c"})");
  ASSERT_EQ(prepares.size(), 1u);
  EXPECT_EQ(BsonView(prepares[0]).timestamp("ts"), prepare_ts);
  EXPECT_EQ(count(client, "prep"), 0) << "a prepared transaction is not visible yet";

  Bson commit_cmd = session.run("admin", R"({"commitTransaction": 1, "commitTimestamp": {"$timestamp": {"t": )" +
                                             std::to_string(prepare_ts->seconds) + R"(, "i": )" +
                                             std::to_string(prepare_ts->increment) + "}}}");
  ASSERT_EQ(BsonView(commit_cmd).integer("ok"), 1) << commit_cmd.relaxed_json();
  EXPECT_EQ(count(client, "prep"), 1);
  auto commits = oplog_for(client, R"({"o.commitTransaction": 1, "txnNumber": 1})");
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(BsonView(commits[0]).timestamp("prevOpTime.ts"), prepare_ts);
  EXPECT_EQ(BsonView(commits[0]).timestamp("o.commitTimestamp"), prepare_ts);
  EXPECT_EQ(BsonView(commits[0]).string("ns"), "admin.$cmd");

  session.txn_number = 2;
  session.run("prep", R"({"insert": "c", "documents": [{"_id": 2}]})", true);
  session.run("admin", R"({"prepareTransaction": 1})");
  ASSERT_EQ(BsonView(session.abort()).integer("ok"), 1);
  EXPECT_EQ(count(client, "prep"), 1);
  EXPECT_EQ(oplog_for(client, R"({"o.abortTransaction": 1, "txnNumber": 2})").size(), 1u);
}

TEST(SandboxTransactionReplication, ACommittedTransactionReachesSecondariesAndSurvivesRestart) {
  SandboxReplSet set(SandboxReplSet::Options{.members = 3});
  mongo::Client client{mongo::Uri(set.uri())};
  std::string primary = BsonView(client.command("admin", json(R"({"hello": 1})"))).string("primary").value_or("");
  ASSERT_FALSE(primary.empty());
  // Every member replicating first (initial sync done), so w:3 below only waits for the commit.
  client.command("repl", json(R"({"insert": "ready", "documents": [{"_id": 1}], "writeConcern": {"w": 3}})"));
  TxnSession session(primary, 'H');
  session.run("repl", R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}]})", true);
  Bson committed = session.run("admin", R"({"commitTransaction": 1, "writeConcern": {"w": 3}})");
  ASSERT_EQ(BsonView(committed).integer("ok"), 1) << committed.relaxed_json();
  for (int i = 0; i < 3; ++i) {
    mongo::Client member{mongo::Uri(set.member_uri(i))};
    EXPECT_EQ(count(member, "repl"), 2) << "member " << i;
    EXPECT_EQ(oplog_for(member, R"({"o.applyOps.ns": "repl.c"})").size(), 1u) << "member " << i;
  }
  int secondary = set.hosts()[0] == primary ? 1 : 0;
  set.kill_member(secondary);
  set.restart_member(secondary);
  mongo::Client restarted{mongo::Uri(set.member_uri(secondary))};
  EXPECT_EQ(count(restarted, "repl"), 2) << "journal replay applies the applyOps entry";
}

TEST(SandboxTransactionRouter, ACrossShardTransactionPreparesAndCommitsOnBothShards) {
  SandboxShardedCluster cluster({.shards = 2, .members = 1, .config_members = 1});
  mongo::Client mongos{mongo::Uri(cluster.mongos_uri())};
  // The balancer would move the split's second chunk on its own.
  mongos.command("admin", json(R"({"balancerStop": 1})"));
  mongos.command("admin", json(R"({"enableSharding": "x", "primaryShard": "shard0"})"));
  mongos.command("admin", json(R"({"shardCollection": "x.c", "key": {"k": 1}})"));
  mongos.command("admin", json(R"({"split": "x.c", "middle": {"k": 0}})"));
  mongos.command("admin", json(R"({"moveChunk": "x.c", "find": {"k": 0}, "to": "shard1", "_waitForDelete": true})"));
  std::string router = cluster.mongos_uri().substr(std::string("mongodb://").size());

  TxnSession session(router, 'I');
  session.run("x", R"({"insert": "c", "documents": [{"_id": 1, "k": -1}, {"_id": 2, "k": 1}]})", true);
  ASSERT_EQ(BsonView(session.commit()).integer("ok"), 1);
  EXPECT_EQ(count(mongos, "x"), 2);
  std::optional<mongo::Timestamp> commit_ts;
  for (int shard = 0; shard < 2; ++shard) {
    mongo::Client client{mongo::Uri(cluster.shard_uris()[static_cast<std::size_t>(shard)])};
    auto prepares = oplog_for(client, R"({"o.prepare": true, "o.applyOps.ns": "x.c"})");
    ASSERT_EQ(prepares.size(), 1u) << "shard " << shard;
    EXPECT_EQ(BsonView(prepares[0]).documents("o.applyOps").size(), 1u);
    EXPECT_EQ(BsonView(prepares[0]).string("ns"), "admin.$cmd");
    auto commits = oplog_for(client, R"({"o.commitTransaction": 1})");
    ASSERT_EQ(commits.size(), 1u) << "shard " << shard;
    EXPECT_EQ(BsonView(commits[0]).timestamp("prevOpTime.ts"), BsonView(prepares[0]).timestamp("ts"));
    auto ts = BsonView(commits[0]).timestamp("o.commitTimestamp");
    if (commit_ts) {
      EXPECT_EQ(ts, commit_ts) << "both shards commit at one timestamp";
    }
    commit_ts = ts;
  }

  session.txn_number = 2;
  session.run("x", R"({"insert": "c", "documents": [{"_id": 3, "k": -2}, {"_id": 4, "k": 2}]})", true);
  ASSERT_EQ(BsonView(session.abort()).integer("ok"), 1);
  EXPECT_EQ(count(mongos, "x"), 2) << "an aborted cross-shard transaction leaves nothing";
}

}  // namespace
}  // namespace shardsafe

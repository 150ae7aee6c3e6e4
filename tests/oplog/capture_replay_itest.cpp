// Capture a range of a sandbox replica set's oplog, replay it onto a second set, and compare;
// detect an oplog that rolled over; extend an idle set's oplog to a consistency point.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <span>
#include <vector>

#include "common/error.h"
#include "mongo/topology.h"
#include "oplog/capture.h"
#include "oplog/memory_streams.h"
#include "oplog/replay.h"
#include "oplog/slice.h"
#include "storage/hash.h"
#include "support/sandbox.h"

namespace shardsafe::oplog {
namespace {

using mongo::Bson;
using mongo::BsonBuilder;
using mongo::BsonView;
using mongo::Timestamp;
using shardsafe::testing::SandboxReplSet;
using testing::ChunkedSource;
using testing::VectorSink;

using Snapshot = std::map<std::string, std::vector<std::string>>;  // ns -> documents by _id, then indexes

void run(mongo::Client& client, const std::string& db, const std::string& json) {
  client.command(db, Bson::from_json(json));
}

std::vector<std::string> user_databases(mongo::Client& client) {
  std::vector<std::string> names;
  const Bson reply = client.command("admin", Bson::from_json(R"({"listDatabases": 1, "nameOnly": true})"));
  for (const Bson& db : BsonView(reply).documents("databases")) {
    const std::string name = BsonView(db).string("name").value_or("");
    if (name != "admin" && name != "local" && name != "config") names.push_back(name);
  }
  return names;
}

// Every user collection's documents in _id order and its index names and keys.
Snapshot snapshot(mongo::Client& client) {
  Snapshot out;
  for (const std::string& db : user_databases(client)) {
    mongo::Cursor collections = client.command_cursor(db, Bson::from_json(R"({"listCollections": 1, "cursor": {}})"));
    while (const bson_t* info = collections.next()) {
      const std::string coll = BsonView(info).string("name").value_or("");
      auto& lines = out[db + "." + coll];
      mongo::Cursor docs = client.find(db, coll, Bson(), Bson::from_json(R"({"sort": {"_id": 1}})"));
      while (const bson_t* doc = docs.next()) lines.push_back(Bson::copy_of(doc).canonical_json());
      mongo::Cursor indexes = client.command_cursor(db, BsonBuilder().append("listIndexes", coll).build());
      while (const bson_t* index = indexes.next()) {
        const BsonView spec(index);
        lines.push_back("index " + spec.string("name").value_or("") + " " + spec.document("key").value_or(Bson()).canonical_json() +
                        (spec.boolean("unique").value_or(false) ? " unique" : ""));
      }
    }
  }
  return out;
}

// A mix of CRUD and DDL on the source, as a backup would see during its dump.
void write_workload(mongo::Client& client, int round) {
  const std::string r = std::to_string(round);
  run(client, "shop", R"({"insert": "orders", "documents": [{"_id": )" + r + R"(0, "qty": 1, "tags": ["a"]},
                          {"_id": )" + r + R"(1, "qty": 2, "nested": {"x": 1}}]})");
  run(client, "shop", R"({"update": "orders", "updates": [{"q": {"_id": )" + r +
                          R"(0}, "u": {"$inc": {"qty": 5}, "$set": {"nested.y": "z"}, "$push": {"tags": "b"}}}]})");
  run(client, "shop", R"({"update": "orders", "updates": [{"q": {"_id": )" + r +
                          R"(1}, "u": {"_id": )" + r + R"(1, "replaced": true}}]})");
  run(client, "shop", R"({"insert": "scratch", "documents": [{"_id": )" + r + R"(}]})");
  run(client, "shop", R"({"delete": "scratch", "deletes": [{"q": {"_id": )" + r + R"(}, "limit": 1}]})");
}

class CaptureReplayTest : public ::testing::Test {
 protected:
  SandboxReplSet source_set_{{.name = "src", .members = 1}};
  mongo::Client source_{mongo::Uri(source_set_.uri())};

  std::vector<std::uint8_t> capture(Timestamp after, Timestamp up_to, CaptureResult* result = nullptr) {
    VectorSink sink;
    const CaptureResult captured = capture_oplog(source_, "src", after, up_to, sink);
    if (result != nullptr) *result = captured;
    return sink.bytes();
  }
};

TEST_F(CaptureReplayTest, ReplayingTheCapturedRangeOntoAnEmptySetReproducesTheSource) {
  const Timestamp start = mongo::newest_oplog_ts(source_);
  write_workload(source_, 1);
  run(source_, "shop", R"({"createIndexes": "orders", "indexes": [{"key": {"qty": 1}, "name": "qty_1"},
                           {"key": {"sku": 1}, "name": "sku_unique", "unique": true, "sparse": true}]})");
  run(source_, "shop", R"({"create": "audit"})");
  run(source_, "shop", R"({"insert": "audit", "documents": [{"_id": 1, "what": "renamed later"}]})");
  run(source_, "admin", R"({"renameCollection": "shop.audit", "to": "shop.audit_log"})");
  run(source_, "tmp", R"({"insert": "gone", "documents": [{"_id": 1}]})");
  run(source_, "tmp", R"({"drop": "gone"})");
  write_workload(source_, 2);
  const Timestamp end = mongo::newest_oplog_ts(source_);

  CaptureResult captured;
  const auto bytes = capture(start, end, &captured);
  EXPECT_GT(captured.entries, 15u);
  EXPECT_GT(captured.first, start);
  EXPECT_EQ(captured.last, end);
  EXPECT_EQ(captured.bytes, bytes.size());

  SandboxReplSet target_set({.name = "dst", .members = 1});
  mongo::Client target{mongo::Uri(target_set.uri())};
  ChunkedSource source(bytes, 1000);
  const ReplayResult result = replay_oplog(source, target, {});
  EXPECT_EQ(result.last_applied, end);
  EXPECT_GT(result.applied, 10u);

  const Snapshot expected = snapshot(source_);
  ASSERT_TRUE(expected.contains("shop.audit_log"));
  ASSERT_FALSE(expected.contains("shop.audit"));
  EXPECT_EQ(snapshot(target), expected);
}

TEST_F(CaptureReplayTest, ReplayUpToAPointLandsOnThatPoint) {
  const Timestamp start = mongo::newest_oplog_ts(source_);
  write_workload(source_, 1);
  const Timestamp middle = mongo::newest_oplog_ts(source_);
  const Snapshot at_middle = snapshot(source_);
  write_workload(source_, 2);
  run(source_, "shop", R"({"drop": "orders"})");
  const auto bytes = capture(start, mongo::newest_oplog_ts(source_));

  SandboxReplSet target_set({.name = "dst", .members = 1});
  mongo::Client target{mongo::Uri(target_set.uri())};
  ChunkedSource source(bytes);
  ReplayOptions options;
  options.up_to = middle;
  EXPECT_EQ(replay_oplog(source, target, options).last_applied, middle);
  EXPECT_EQ(snapshot(target), at_middle);
}

TEST_F(CaptureReplayTest, CommittedTransactionsLandAndAbortedOnesDoNot) {
  // The sandbox does not write transactions, so these entries are written as a 4.2+ server logs
  // a large transaction (partialTxn chain) and an aborted prepared one.
  const std::string lsid = R"({"id": {"$binary": {"base64": "q83vASNFZ4mrze8BI0VniQ==", "subType": "04"}}})";
  const auto txn = [&](int seconds, int number, const std::string& ops, const std::string& extra) {
    return Bson::from_json(R"({"ts": {"$timestamp": {"t": )" + std::to_string(seconds) + R"(, "i": 1}}, "t": 1, "v": 2,
        "op": "c", "ns": "admin.$cmd", "lsid": )" + lsid + R"(, "txnNumber": )" + std::to_string(number) +
                           R"(, "o": {"applyOps": )" + ops + extra + "}}");
  };
  std::vector<Bson> entries = {
      txn(100, 1, R"([{"op": "i", "ns": "bank.accounts", "o": {"_id": 1, "balance": 10}}])", R"(, "partialTxn": true)"),
      txn(101, 2, R"([{"op": "i", "ns": "bank.accounts", "o": {"_id": 9, "balance": 99}}])", R"(, "prepare": true)"),
      txn(102, 1, R"([{"op": "i", "ns": "bank.accounts", "o": {"_id": 2, "balance": 20}}])", ""),
      Bson::from_json(R"({"ts": {"$timestamp": {"t": 103, "i": 1}}, "t": 1, "v": 2, "op": "c", "ns": "admin.$cmd",
                          "lsid": )" + lsid + R"(, "txnNumber": 2, "o": {"abortTransaction": 1}})"),
  };
  std::vector<std::uint8_t> bytes;
  for (const Bson& entry : entries) bytes.insert(bytes.end(), entry.bytes().begin(), entry.bytes().end());

  ChunkedSource source(bytes);
  const ReplayResult result = replay_oplog(source, source_, {});
  EXPECT_EQ(result.applied, 2u);
  const Snapshot after = snapshot(source_);
  ASSERT_TRUE(after.contains("bank.accounts"));
  const auto& accounts = after.at("bank.accounts");
  ASSERT_GE(accounts.size(), 3u);
  EXPECT_EQ(accounts[0], Bson::from_json(R"({"_id": 1, "balance": 10})").canonical_json());
  EXPECT_EQ(accounts[1], Bson::from_json(R"({"_id": 2, "balance": 20})").canonical_json());
  EXPECT_EQ(accounts[2].rfind("index ", 0), 0u) << "the prepared-then-aborted insert must not land";
}

TEST_F(CaptureReplayTest, CaptureRefusesARangeTheOplogHasNotReachedYet) {
  const Timestamp newest = mongo::newest_oplog_ts(source_);
  VectorSink sink;
  try {
    capture_oplog(source_, "src", newest, Timestamp{newest.seconds + 3600, 0}, sink);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(sink.bytes().empty());
}

TEST_F(CaptureReplayTest, WaitForOptimeAdvancesAnIdleSetWithANote) {
  const Timestamp newest = mongo::newest_oplog_ts(source_);
  const Timestamp target{newest.seconds + 1, 0};  // the next second: only a new write gets there
  const Timestamp reached = wait_for_optime(source_, target, std::chrono::steady_clock::now() + std::chrono::seconds(30));
  EXPECT_GE(reached, target);
  EXPECT_GE(mongo::newest_oplog_ts(source_), target);

  mongo::Cursor notes = source_.find("local", "oplog.rs", Bson::from_json(R"({"op": "n", "o.msg": "shardsafe consistency point"})"));
  EXPECT_NE(notes.next(), nullptr);
}

// The consistency point of a cluster is the optime of the set that wrote most: another set's
// clock is then behind it in increments of the same second, and a plain note lands before it.
// With the leading set's cluster time, the note moves the member's clock there: one is enough.
TEST_F(CaptureReplayTest, WaitForOptimeWithTheLeadingSetsClusterTimeNeedsOneNote) {
  SandboxReplSet leading_set({.name = "leading", .members = 1});
  mongo::Client leading{mongo::Uri(leading_set.uri())};
  std::vector<Bson> documents;
  for (int i = 0; i < 500; ++i) documents.push_back(BsonBuilder().append("_id", i).build());
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& document : documents) raw.push_back(document.bytes());
  leading.insert_many("busy", "writes", raw, /*ordered=*/true);  // 500 entries, most in one second
  const Timestamp point = mongo::newest_oplog_ts(leading);
  const auto cluster_time = mongo::gossiped_cluster_time(leading);
  ASSERT_TRUE(cluster_time.has_value());
  ASSERT_LT(mongo::newest_oplog_ts(source_), point);

  EXPECT_GE(wait_for_optime(source_, point, std::chrono::steady_clock::now() + std::chrono::seconds(30), cluster_time), point);
  int notes = 0;
  mongo::Cursor cursor = source_.find("local", "oplog.rs", Bson::from_json(R"({"op": "n", "o.msg": "shardsafe consistency point"})"));
  while (cursor.next()) ++notes;
  EXPECT_EQ(notes, 1);
}

TEST_F(CaptureReplayTest, WaitForOptimeTimesOut) {
  const Timestamp far{mongo::newest_oplog_ts(source_).seconds + 3600, 0};
  try {
    wait_for_optime(source_, far, std::chrono::steady_clock::now() + std::chrono::milliseconds(300));
    FAIL() << "expected a timeout";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kTimeout);
    EXPECT_NE(std::string(e.what()).find(far.to_string()), std::string::npos) << e.what();
  }
}

TEST_F(CaptureReplayTest, ConsecutiveSlicesFormAChainThatReplaysLikeOneRange) {
  const Timestamp start = mongo::newest_oplog_ts(source_);
  std::vector<OplogSlice> slices;
  std::vector<std::vector<std::uint8_t>> contents;
  Timestamp previous_end = start;
  for (int round = 1; round <= 3; ++round) {
    write_workload(source_, round);
    const Timestamp end = mongo::newest_oplog_ts(source_);
    CaptureResult captured;
    contents.push_back(capture(previous_end, end, &captured));
    slices.push_back({"src", previous_end, end, captured.entries, storage::sha256_hex(contents.back()),
                      slice_key("src", previous_end, end)});
    previous_end = end;
  }
  const auto chain = validate_chain(slices, start, previous_end);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_THROW(validate_chain({slices[0], slices[2]}, start, previous_end), Error);  // the middle slice is missing

  SandboxReplSet target_set({.name = "dst", .members = 1});
  mongo::Client target{mongo::Uri(target_set.uri())};
  for (const auto& bytes : contents) {
    ChunkedSource source(bytes);
    replay_oplog(source, target, {});
  }
  EXPECT_EQ(snapshot(target), snapshot(source_));
}

TEST(OplogSecondaryTest, CapturesFromASecondaryAfterItCaughtUp) {
  SandboxReplSet set({.name = "pair", .members = 2});
  mongo::Client primary{mongo::Uri(set.uri())};
  mongo::Client secondary{mongo::Uri(set.member_uri(1))};
  ASSERT_TRUE(mongo::hello(secondary).secondary);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  // A secondary's oplog starts where its initial sync did: start from an entry it holds.
  const Timestamp start = wait_for_optime(secondary, mongo::newest_oplog_ts(primary), deadline);
  write_workload(primary, 1);
  const Timestamp end = mongo::newest_oplog_ts(primary);
  // The note fails on a secondary; replication brings it to `end`.
  EXPECT_GE(wait_for_optime(secondary, end, deadline), end);
  VectorSink from_secondary, from_primary;
  const CaptureResult captured = capture_oplog(secondary, "pair", start, end, from_secondary);
  capture_oplog(primary, "pair", start, end, from_primary);
  EXPECT_GT(captured.entries, 0u);
  EXPECT_EQ(captured.last, end);
  EXPECT_EQ(from_secondary.bytes(), from_primary.bytes());
}

TEST(OplogRolloverTest, CaptureAfterTheOplogRolledOverFails) {
  SandboxReplSet set({.name = "tiny", .members = 1, .oplog_size_mb = 1});
  mongo::Client client{mongo::Uri(set.uri())};
  const Timestamp start = mongo::newest_oplog_ts(client);
  const std::string padding(4000, 'x');
  for (int batch = 0; batch < 10; ++batch) {  // ~2 MiB of entries through a 1 MiB oplog
    std::string docs;
    for (int i = 0; i < 50; ++i) {
      docs += (docs.empty() ? "" : ",") + std::string(R"({"_id": )") + std::to_string(batch * 50 + i) +
              R"(, "pad": ")" + padding + "\"}";
    }
    run(client, "big", R"({"insert": "c", "documents": [)" + docs + "]}");
  }
  VectorSink sink;
  try {
    capture_oplog(client, "tiny", start, mongo::newest_oplog_ts(client), sink);
    FAIL() << "expected the rollover to be detected";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kChainGap);
    EXPECT_NE(std::string(e.what()).find("oplog of replica set \"tiny\" rolled over: entries after " + start.to_string() +
                                         " are gone"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(sink.finished());
}

}  // namespace
}  // namespace shardsafe::oplog

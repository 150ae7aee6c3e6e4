// The replay rules, observed through what OplogReplayer would send (no server needed).
#include <gtest/gtest.h>

#include "oplog/recording_runner.h"
#include "oplog/replay.h"

namespace shardsafe::oplog {
namespace {

using mongo::Bson;
using mongo::BsonView;
using testing::entry;
using testing::RecordingRunner;

constexpr const char* kUuid = R"({"$binary": {"base64": "AAECAwQFBgcICQoLDA0ODw==", "subType": "04"}})";
constexpr const char* kOtherUuid = R"({"$binary": {"base64": "EBESExQVFhcYGRobHB0eHw==", "subType": "04"}})";
constexpr const char* kLsid = R"({"id": {"$binary": {"base64": "q83vASNFZ4mrze8BI0VniQ==", "subType": "04"}}})";

std::string canonical(const std::string& json) { return Bson::from_json(json).canonical_json(); }

std::string ts(std::uint32_t seconds, std::uint32_t increment = 1) {
  return R"({"$timestamp": {"t": )" + std::to_string(seconds) + R"(, "i": )" + std::to_string(increment) + "}}";
}

// An insert of {_id: id} into test.c at ts (seconds, 1).
std::string insert(std::uint32_t seconds, int id, const std::string& ns = "test.c") {
  return R"({"ts": )" + ts(seconds) + R"(, "t": {"$numberLong": "1"}, "v": {"$numberLong": "2"}, "op": "i", "ns": ")" +
         ns + R"(", "ui": )" + kUuid + R"(, "o": {"_id": )" + std::to_string(id) + "}}";
}

// The expected re-encoding of insert(seconds, id): ui stripped, t and v kept.
std::string sent_insert(std::uint32_t seconds, int id, const std::string& ns = "test.c") {
  return canonical(R"({"ts": )" + ts(seconds) + R"(, "t": {"$numberLong": "1"}, "v": 2, "op": "i", "ns": ")" + ns +
                   R"(", "o": {"_id": )" + std::to_string(id) + "}}");
}

std::string command(std::uint32_t seconds, const std::string& ns, const std::string& o) {
  return R"({"ts": )" + ts(seconds) + R"(, "t": {"$numberLong": "1"}, "v": 2, "op": "c", "ns": ")" + ns +
         R"(", "ui": )" + kUuid + R"(, "o": )" + o + "}";
}

// An applyOps entry of session kLsid, transaction `txn`.
std::string transaction(std::uint32_t seconds, int txn, const std::string& ops, const std::string& extra = "") {
  return R"({"ts": )" + ts(seconds) + R"(, "t": {"$numberLong": "1"}, "v": 2, "op": "c", "ns": "admin.$cmd", "lsid": )" +
         kLsid + R"(, "txnNumber": {"$numberLong": ")" + std::to_string(txn) + R"("}, "o": {"applyOps": )" + ops +
         extra + "}}";
}

std::string txn_insert(int id) {
  return R"({"op": "i", "ns": "test.c", "ui": )" + std::string(kUuid) + R"(, "o": {"_id": )" + std::to_string(id) + "}}";
}

class ReplayTest : public ::testing::Test {
 protected:
  void apply(const std::string& json) { replayer().apply(entry(json)); }
  OplogReplayer& replayer() {
    if (!replayer_) replayer_.emplace(runner_, options_);
    return *replayer_;
  }
  // Replay sends its last batch only when it finishes: the totals, once.
  ReplayResult finish() {
    if (!result_) result_ = replayer().finish();
    return *result_;
  }
  // Every op sent once replay finished.
  std::vector<std::string> ops() {
    finish();
    return runner_.applied_ops();
  }

  RecordingRunner runner_;
  ReplayOptions options_;
  std::optional<OplogReplayer> replayer_;
  std::optional<ReplayResult> result_;
};

TEST_F(ReplayTest, SendsEachEntryAloneInApplyOpsReencodedAsMongorestoreDoes) {
  apply(R"({"ts": )" + ts(100) + R"(, "t": {"$numberLong": "3"}, "h": {"$numberLong": "77"}, "v": {"$numberLong": "2"},
           "op": "u", "ns": "test.c", "ui": )" + kUuid + R"(, "o": {"$v": 2, "diff": {"u": {"a": 1}}},
           "o2": {"_id": 1}, "wall": {"$date": "2026-11-25T00:00:00Z"}, "stmtId": 0, "lsid": )" + kLsid + R"(,
           "txnNumber": {"$numberLong": "4"}, "prevOpTime": {"ts": )" + ts(0, 0) + R"(, "t": {"$numberLong": "-1"}}})");
  const ReplayResult result = finish();
  ASSERT_EQ(runner_.sent.size(), 1u);
  EXPECT_EQ(runner_.sent[0].db, "admin");
  EXPECT_EQ(runner_.sent[0].command.canonical_json(),
            canonical(R"({"applyOps": [{"ts": )" + ts(100) + R"(, "t": {"$numberLong": "3"}, "v": 2, "op": "u",
              "ns": "test.c", "o": {"$v": 2, "diff": {"u": {"a": 1}}}, "o2": {"_id": 1}, "lsid": )" + kLsid + R"(,
              "txnNumber": {"$numberLong": "4"}, "prevOpTime": {"ts": )" + ts(0, 0) + R"(, "t": {"$numberLong": "-1"}}}]})"));
  EXPECT_EQ(result.applied, 1u);
  EXPECT_EQ(result.last_applied, (mongo::Timestamp{100, 1}));
}

TEST_F(ReplayTest, MissingTermBecomesNullAndUuidIsKeptWhenPreserved) {
  options_.preserve_uuid = true;
  apply(R"({"ts": )" + ts(100) + R"(, "v": 2, "op": "i", "ns": "test.c", "ui": )" + kUuid + R"(, "o": {"_id": 1}})");
  EXPECT_EQ(ops(),
            std::vector<std::string>{canonical(R"({"ts": )" + ts(100) + R"(, "t": null, "v": 2, "op": "i", "ns": "test.c",
                                               "o": {"_id": 1}, "ui": )" + kUuid + "}")});
}

TEST_F(ReplayTest, SkipsWhatMongorestoreSkips) {
  apply(R"({"ts": )" + ts(1) + R"(, "op": "n", "ns": "", "o": {"msg": "periodic noop"}})");
  apply(insert(2, 1, "config.system.sessions"));
  apply(insert(3, 1, "config.transactions"));
  apply(insert(4, 1, "__mdb_internal_x.c"));
  apply(command(5, "test.$cmd", R"({"startIndexBuild": "c", "indexBuildUUID": )" + std::string(kUuid) + "}"));
  apply(command(6, "test.$cmd", R"({"abortIndexBuild": "c"})"));
  apply(command(7, "test.$cmd", R"({"setMultikeyMetadata": "c"})"));
  apply(command(8, "test.$cmd", R"({"dropIdent": "c"})"));
  apply(R"({"ts": )" + ts(9) + R"(, "op": "km", "ns": "test.c", "o": {}})");
  apply(command(10, "config.$cmd", R"({"create": "system.sessions"})"));
  apply(insert(11, 1, "config.chunks"));  // kept: mongodump dumps config.chunks
  EXPECT_EQ(ops(), std::vector<std::string>{sent_insert(11, 1, "config.chunks")});
  const ReplayResult result = finish();
  EXPECT_EQ(result.skipped, 10u);
  EXPECT_EQ(result.applied, 1u);
  EXPECT_EQ(result.last_applied, (mongo::Timestamp{11, 1}));
}

TEST_F(ReplayTest, IncludeNamespaceFiltersOperationsAndCommandsByTheirCollection) {
  options_.include_namespace = [](const std::string& ns) { return ns == "test.keep"; };
  apply(insert(1, 1, "test.keep"));
  apply(insert(2, 2, "test.other"));
  apply(command(3, "test.$cmd", R"({"drop": "other"})"));
  apply(command(4, "test.$cmd", R"({"create": "keep"})"));
  const auto ops = this->ops();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0], sent_insert(1, 1, "test.keep"));
  EXPECT_NE(ops[1].find(R"("create" : "keep")"), std::string::npos) << ops[1];
  EXPECT_EQ(finish().skipped, 2u);
}

TEST_F(ReplayTest, SmallTransactionAppliesEachOperationWithTheCommitTimestamp) {
  apply(transaction(50, 1, "[" + txn_insert(1) + "," + txn_insert(2) + "]"));
  const std::string expected_1 = canonical(R"({"ts": )" + ts(50) + R"(, "t": {"$numberLong": "1"}, "v": 2, "op": "i",
                                            "ns": "test.c", "o": {"_id": 1}})");
  const std::string expected_2 = canonical(R"({"ts": )" + ts(50) + R"(, "t": {"$numberLong": "1"}, "v": 2, "op": "i",
                                            "ns": "test.c", "o": {"_id": 2}})");
  EXPECT_EQ(ops(), (std::vector<std::string>{expected_1, expected_2}));
}

TEST_F(ReplayTest, LargeTransactionWaitsForItsCommitWhileOtherWritesGoThrough) {
  apply(transaction(10, 7, "[" + txn_insert(1) + "]", R"(, "partialTxn": true)"));
  apply(insert(11, 100));
  apply(transaction(12, 7, "[" + txn_insert(2) + "]", R"(, "partialTxn": true)"));
  apply(transaction(13, 7, "[" + txn_insert(3) + "]", R"(, "count": {"$numberLong": "3"})"));
  const auto sent = ops();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0], sent_insert(11, 100));
  for (int i = 1; i <= 3; ++i) {
    EXPECT_NE(sent[static_cast<std::size_t>(i)].find(R"("_id" : { "$numberInt" : ")" + std::to_string(i)), std::string::npos)
        << sent[static_cast<std::size_t>(i)];
  }
}

TEST_F(ReplayTest, PreparedTransactionAppliesOnCommitAndNotOnAbort) {
  apply(transaction(20, 1, "[" + txn_insert(1) + "]", R"(, "prepare": true)"));
  apply(transaction(21, 2, "[" + txn_insert(2) + "]", R"(, "prepare": true)"));
  EXPECT_TRUE(runner_.sent.empty());
  const std::string session = std::string(R"(, "lsid": )") + kLsid;
  apply(R"({"ts": )" + ts(22) + R"(, "op": "c", "ns": "admin.$cmd")" + session +
        R"(, "txnNumber": {"$numberLong": "2"}, "o": {"abortTransaction": 1}})");
  apply(R"({"ts": )" + ts(23) + R"(, "op": "c", "ns": "admin.$cmd")" + session +
        R"(, "txnNumber": {"$numberLong": "1"}, "o": {"commitTransaction": 1, "commitTimestamp": )" + ts(22) + "}}");
  const auto ops = this->ops();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_NE(ops[0].find(R"("_id" : { "$numberInt" : "1" })"), std::string::npos) << ops[0];
}

TEST_F(ReplayTest, CommitOfAPrepareOutsideTheRangeIsAnError) {
  try {
    apply(R"({"ts": )" + ts(23) + R"(, "op": "c", "ns": "admin.$cmd", "lsid": )" + kLsid +
          R"(, "txnNumber": {"$numberLong": "1"}, "o": {"commitTransaction": 1}})");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptData);
    EXPECT_NE(std::string(e.what()).find("23.1"), std::string::npos) << e.what();
  }
}

TEST_F(ReplayTest, TransactionCommittedAfterUpToIsNotApplied) {
  options_.up_to = mongo::Timestamp{11, 1};
  apply(transaction(10, 7, "[" + txn_insert(1) + "]", R"(, "partialTxn": true)"));
  apply(insert(11, 100));
  apply(transaction(12, 7, "[" + txn_insert(2) + "]"));
  apply(insert(13, 101));
  EXPECT_TRUE(replayer().reached_end());
  EXPECT_EQ(ops(), std::vector<std::string>{sent_insert(11, 100)});
  EXPECT_EQ(finish().last_applied, (mongo::Timestamp{11, 1}));
}

TEST_F(ReplayTest, NestedApplyOpsAreUnwrappedAndFiltered) {
  apply(command(30, "admin.$cmd", R"({"applyOps": [)" + txn_insert(1) +
                                      R"(, {"op": "c", "ns": "admin.$cmd", "o": {"applyOps": [)" + txn_insert(2) +
                                      R"(, {"op": "i", "ns": "config.system.sessions", "o": {"_id": 3}}]}}]})"));
  const auto ops = this->ops();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_NE(ops[1].find(R"("_id" : { "$numberInt" : "2" })"), std::string::npos) << ops[1];
  EXPECT_EQ(finish().skipped, 1u);
}

TEST_F(ReplayTest, IndexBuildsAreDeferredAndBuiltAtTheEnd) {
  apply(command(1, "test.$cmd", R"({"createIndexes": "c", "v": 2, "key": {"a": 1}, "name": "a_1"})"));
  apply(command(2, "test.$cmd", R"({"commitIndexBuild": "c", "indexBuildUUID": )" + std::string(kOtherUuid) +
                                    R"(, "indexes": [{"v": 2, "key": {"b": 1}, "name": "b_1", "unique": true}]})"));
  apply(command(3, "test.$cmd", R"({"createIndexes": "d", "v": 2, "key": {"x": 1}, "name": "x_1"})"));
  apply(insert(4, 1));
  EXPECT_TRUE(runner_.sent.empty());  // the insert waits in its batch, the index builds until the end
  finish();
  ASSERT_EQ(runner_.sent.size(), 3u);
  EXPECT_EQ(runner_.sent[1].db, "test");
  EXPECT_EQ(runner_.sent[1].command.canonical_json(),
            canonical(R"({"createIndexes": "c", "indexes": [{"v": 2, "key": {"a": 1}, "name": "a_1"},
                         {"v": 2, "key": {"b": 1}, "name": "b_1", "unique": true}]})"));
  EXPECT_EQ(runner_.sent[2].command.canonical_json(),
            canonical(R"({"createIndexes": "d", "indexes": [{"v": 2, "key": {"x": 1}, "name": "x_1"}]})"));
}

TEST_F(ReplayTest, DdlAfterADeferredIndexChangesTheDeferredSpecs) {
  apply(command(1, "test.$cmd", R"({"createIndexes": "c", "v": 2, "key": {"a": 1}, "name": "a_1"})"));
  apply(command(2, "test.$cmd", R"({"createIndexes": "c", "v": 2, "key": {"b": 1}, "name": "b_1"})"));
  apply(command(3, "test.$cmd", R"({"dropIndexes": "c", "index": "a_1"})"));  // collected: nothing sent
  apply(command(4, "test.$cmd", R"({"dropIndexes": "c", "index": "old_1"})"));  // built before replay: sent
  apply(command(5, "test.$cmd",
                R"({"collMod": "c", "index": {"name": "b_1", "hidden": true}, "noPadding": true, "usePowerOf2Sizes": true})"));
  apply(command(6, "test.$cmd", R"({"createIndexes": "gone", "v": 2, "key": {"g": 1}, "name": "g_1"})"));
  apply(command(7, "test.$cmd", R"({"drop": "gone"})"));
  apply(command(8, "test.$cmd", R"({"createIndexes": "from", "v": 2, "key": {"f": 1}, "name": "f_1"})"));
  apply(command(9, "admin.$cmd", R"({"renameCollection": "test.from", "to": "test.to", "dropTarget": )" +
                                     std::string(kOtherUuid) + "}"));
  finish();

  std::vector<std::string> sent;
  for (const auto& c : runner_.sent) sent.push_back(c.command.canonical_json());
  ASSERT_EQ(sent.size(), 5u) << ::testing::PrintToString(sent);
  EXPECT_NE(sent[0].find(R"("o" : { "dropIndexes" : "c", "index" : "old_1" })"), std::string::npos) << sent[0];
  EXPECT_NE(sent[1].find(R"("o" : { "drop" : "gone" })"), std::string::npos) << sent[1];
  EXPECT_NE(sent[2].find(R"("o" : { "renameCollection" : "test.from", "to" : "test.to", "dropTarget" : true })"),
            std::string::npos)
      << sent[2];
  EXPECT_EQ(sent[3], canonical(R"({"createIndexes": "c", "indexes": [{"v": 2, "key": {"b": 1}, "name": "b_1", "hidden": true}]})"));
  EXPECT_EQ(sent[4], canonical(R"({"createIndexes": "to", "indexes": [{"v": 2, "key": {"f": 1}, "name": "f_1"}]})"));
}

TEST_F(ReplayTest, CollModAndCreateLoseOptionsServersNoLongerAccept) {
  apply(command(1, "test.$cmd", R"({"collMod": "c", "validationLevel": "off", "noPadding": false})"));
  apply(command(2, "test.$cmd", R"({"create": "n", "recordIdsReplicated": true, "capped": true, "size": 4096})"));
  apply(command(3, "test.$cmd", R"({"collMod": "c", "usePowerOf2Sizes": true})"));  // nothing left to send
  const auto ops = this->ops();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_NE(ops[0].find(R"("o" : { "collMod" : "c", "validationLevel" : "off" })"), std::string::npos) << ops[0];
  EXPECT_NE(ops[1].find(R"("o" : { "create" : "n", "capped" : true, "size" : { "$numberInt" : "4096" } })"),
            std::string::npos)
      << ops[1];
}

TEST_F(ReplayTest, StopsAfterUpToInclusive) {
  options_.up_to = mongo::Timestamp{2, 1};
  apply(insert(1, 1));
  apply(insert(2, 2));
  EXPECT_FALSE(replayer().reached_end());
  apply(insert(3, 3));
  EXPECT_TRUE(replayer().reached_end());
  EXPECT_EQ(ops(), (std::vector<std::string>{sent_insert(1, 1), sent_insert(2, 2)}));
  const ReplayResult result = finish();
  EXPECT_EQ(result.applied, 2u);
  EXPECT_EQ(result.last_applied, (mongo::Timestamp{2, 1}));
}

TEST_F(ReplayTest, EntriesOutOfOrderAreCorruptData) {
  apply(insert(5, 1));
  try {
    apply(insert(4, 2));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptData);
    EXPECT_STREQ(e.what(), "oplog entries out of order: ts 4.1 follows ts 5.1");
  }
  EXPECT_THROW(apply(insert(5, 2)), Error);  // the same ts twice
}

TEST_F(ReplayTest, UnknownCommandIsAnErrorNamingIt) {
  try {
    apply(command(1, "test.$cmd", R"({"reshardCollection": "c"})"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupportedVersion);
    EXPECT_NE(std::string(e.what()).find("\"reshardCollection\""), std::string::npos) << e.what();
  }
}

TEST_F(ReplayTest, MalformedEntriesAreCorruptData) {
  EXPECT_THROW(apply(R"({"op": "i", "ns": "test.c", "o": {}})"), Error);             // no ts
  EXPECT_THROW(apply(R"({"ts": )" + ts(1) + R"(, "ns": "test.c", "o": {}})"), Error);  // no op
  try {
    apply(R"({"ts": )" + ts(2) + R"(, "op": "x", "ns": "test.c", "o": {}})");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptData);
    EXPECT_NE(std::string(e.what()).find("\"x\""), std::string::npos) << e.what();
  }
  const std::vector<std::uint8_t> garbage = {9, 0, 0, 0, 1, 2, 3, 4, 5};
  EXPECT_THROW(replayer().apply(garbage), Error);
}

TEST_F(ReplayTest, ServerErrorNamesTheEntryAndKeepsTheServerCode) {
  runner_.fail_with_code = 11000;
  runner_.fail_if_contains = R"("_id" : { "$numberInt" : "2" })";
  apply(insert(41, 1, "shop.orders"));
  apply(insert(42, 2, "shop.orders"));
  apply(insert(43, 3, "shop.orders"));
  try {
    finish();
    FAIL() << "expected an error";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 11000);
    EXPECT_NE(std::string(e.what()).find("ts 42.1 on \"shop.orders\""), std::string::npos) << e.what();
  }
  // The batch of three, then each entry alone until the failing one.
  ASSERT_EQ(runner_.sent.size(), 3u);
  EXPECT_EQ(mongo::BsonView(runner_.sent[0].command).documents("applyOps").size(), 3u);
}

TEST_F(ReplayTest, ConsecutiveCrudSharesOneApplyOpsThatCommandsAndTransactionsBreak) {
  for (std::uint32_t i = 1; i <= kMaxBatchOps + 2; ++i) apply(insert(i, static_cast<int>(i)));
  apply(command(2000, "test.$cmd", R"({"drop": "c"})"));
  apply(insert(2001, 1));
  apply(transaction(2002, 1, "[" + txn_insert(2) + "," + txn_insert(3) + "]"));
  apply(insert(2003, 4));
  EXPECT_EQ(finish().applied, kMaxBatchOps + 2 + 1 + 1 + 2 + 1);
  std::vector<std::size_t> sizes;
  for (const auto& sent : runner_.sent) sizes.push_back(mongo::BsonView(sent.command).documents("applyOps").size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{kMaxBatchOps, 2, 1, 1, 2, 1}));
}

}  // namespace
}  // namespace shardsafe::oplog

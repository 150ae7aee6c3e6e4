// The sandbox's oplog: entry shapes, tailable awaitData cursors and rollover.
#include <gtest/gtest.h>

#include <chrono>

#include "common/error.h"
#include "mongo/client.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using mongo::Bson;
using mongo::BsonView;
using testing::SandboxReplSet;
using Clock = std::chrono::steady_clock;

Bson json(std::string_view text) { return Bson::from_json(text); }

std::vector<Bson> oplog_for(mongo::Client& client, const std::string& filter) {
  std::vector<Bson> entries;
  auto cursor = client.find("local", "oplog.rs", json(filter));
  while (const bson_t* entry = cursor.next()) entries.push_back(Bson::copy_of(entry));
  return entries;
}

TEST(SandboxOplog, EveryWriteLeavesAVersion2EntryOfTheDocumentedShape) {
  SandboxReplSet set(SandboxReplSet::Options{});
  mongo::Client client{mongo::Uri(set.uri())};
  client.command("shape", json(R"({"insert": "c", "documents": [{"_id": 1, "a": 1, "arr": [1, 2]}]})"));
  client.command("shape", json(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"a": 2}, "$unset": {"arr": 1}}}]})"));
  client.command("shape", json(R"({"delete": "c", "deletes": [{"q": {"_id": 1}, "limit": 1}]})"));

  auto crud = oplog_for(client, R"({"ns": "shape.c"})");
  ASSERT_EQ(crud.size(), 3u);
  EXPECT_EQ(BsonView(crud[0]).string("op"), "i");
  EXPECT_EQ(BsonView(crud[0]).integer("o.a"), 1);
  EXPECT_EQ(BsonView(crud[1]).string("op"), "u");
  EXPECT_EQ(BsonView(crud[1]).integer("o.$v"), 2);
  EXPECT_EQ(BsonView(crud[1]).integer("o.diff.u.a"), 2);
  EXPECT_EQ(BsonView(crud[1]).boolean("o.diff.d.arr"), false);
  EXPECT_EQ(BsonView(crud[1]).integer("o2._id"), 1);
  EXPECT_EQ(BsonView(crud[2]).string("op"), "d");
  EXPECT_EQ(BsonView(crud[2]).integer("o._id"), 1);
  for (const Bson& entry : crud) {
    BsonView view(entry);
    bson_iter_t v, ui, wall;
    ASSERT_TRUE(view.find("v", &v));
    EXPECT_EQ(bson_iter_type(&v), BSON_TYPE_INT64);
    EXPECT_EQ(bson_iter_int64(&v), 2);
    EXPECT_TRUE(view.find("ui", &ui) && BSON_ITER_HOLDS_BINARY(&ui));
    EXPECT_TRUE(view.find("wall", &wall) && BSON_ITER_HOLDS_DATE_TIME(&wall));
    EXPECT_EQ(view.integer("t"), 1);
    EXPECT_TRUE(view.timestamp("ts").has_value());
  }
  EXPECT_LT(*BsonView(crud[0]).timestamp("ts"), *BsonView(crud[1]).timestamp("ts"));
  EXPECT_LT(*BsonView(crud[1]).timestamp("ts"), *BsonView(crud[2]).timestamp("ts"));

  auto create = oplog_for(client, R"({"ns": "shape.$cmd", "o.create": "c"})");
  ASSERT_EQ(create.size(), 1u);
  EXPECT_EQ(BsonView(create[0]).string("op"), "c");
  EXPECT_EQ(BsonView(create[0]).string("o.idIndex.name"), "_id_");

  client.command("admin", json(R"({"appendOplogNote": 1, "data": {"marker": "m1"}})"));
  auto notes = oplog_for(client, R"({"op": "n", "o.marker": "m1"})");
  EXPECT_EQ(notes.size(), 1u);
}

// A query bounded below on `ts` starts at the bound (as mongod's oplog scans do); it must
// return exactly the entries a filter without that shortcut returns, at both kinds of bound.
TEST(SandboxOplog, TimestampBoundedQueriesReturnExactlyTheEntriesInRange) {
  SandboxReplSet set(SandboxReplSet::Options{});
  mongo::Client client{mongo::Uri(set.uri())};
  for (int i = 0; i < 20; ++i) {
    client.command("bounded", mongo::BsonBuilder().append("insert", "c").append_array("documents", std::vector<Bson>{
        mongo::BsonBuilder().append("_id", i).build()}).build());
  }
  const auto inserts = oplog_for(client, R"({"ns": "bounded.c"})");
  ASSERT_EQ(inserts.size(), 20u);
  const auto bound = *BsonView(inserts[7]).timestamp("ts");
  const auto upper = *BsonView(inserts[15]).timestamp("ts");
  auto in_range = [&](const char* lower_op, bool with_and) {
    const Bson range = mongo::BsonBuilder().append(lower_op, bound).append("$lte", upper).build();
    const Bson filter = with_and ? mongo::BsonBuilder().append_array("$and", std::vector<Bson>{
                                       mongo::BsonBuilder().append("ns", "bounded.c").build(),
                                       mongo::BsonBuilder().append("ts", range).build()}).build()
                                 : mongo::BsonBuilder().append("ns", "bounded.c").append("ts", range).build();
    std::vector<std::int64_t> ids;
    auto cursor = client.find("local", "oplog.rs", filter);
    while (const bson_t* entry = cursor.next()) ids.push_back(*BsonView(entry).integer("o._id"));
    return ids;
  };
  const std::vector<std::int64_t> after{8, 9, 10, 11, 12, 13, 14, 15};
  std::vector<std::int64_t> from{7};
  from.insert(from.end(), after.begin(), after.end());
  EXPECT_EQ(in_range("$gt", false), after);
  EXPECT_EQ(in_range("$gte", false), from);
  EXPECT_EQ(in_range("$gt", true), after);
  EXPECT_EQ(in_range("$gte", true), from);
}

TEST(SandboxOplog, TailableAwaitDataCursorWaitsThenDeliversNewEntries) {
  SandboxReplSet set(SandboxReplSet::Options{});
  mongo::Client reader{mongo::Uri(set.uri())};
  mongo::Client writer{mongo::Uri(set.uri())};
  Bson first = reader.command("local", json(R"({"find": "oplog.rs", "filter": {}, "tailable": true, "awaitData": true})"));
  auto id = BsonView(first).integer("cursor.id");
  ASSERT_TRUE(id.has_value());
  ASSERT_NE(*id, 0);
  // Drain what exists, then an empty wait of maxTimeMS keeps the same cursor.
  auto get_more = [&](int wait_ms) {
    return reader.command("local", mongo::BsonBuilder().append("getMore", *id).append("collection", "oplog.rs")
                                       .append("maxTimeMS", wait_ms).build());
  };
  while (!BsonView(get_more(50)).documents("cursor.nextBatch").empty()) {
  }
  auto started = Clock::now();
  Bson empty = get_more(400);
  EXPECT_GE(Clock::now() - started, std::chrono::milliseconds(350));
  EXPECT_TRUE(BsonView(empty).documents("cursor.nextBatch").empty());
  EXPECT_EQ(BsonView(empty).integer("cursor.id"), *id);

  writer.command("tail", json(R"({"insert": "c", "documents": [{"_id": "new"}]})"));
  std::vector<Bson> seen;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    for (Bson& entry : BsonView(get_more(1000)).documents("cursor.nextBatch")) {
      if (BsonView(entry).string("ns") == "tail.c") seen.push_back(std::move(entry));
    }
    if (!seen.empty()) break;
  }
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(BsonView(seen[0]).string("o._id"), "new");
}

TEST(SandboxOplog, ACursorOverwrittenByRolloverFailsWithCappedPositionLost) {
  SandboxReplSet set(SandboxReplSet::Options{.name = "rs0", .members = 1, .oplog_size_mb = 1});
  mongo::Client client{mongo::Uri(set.uri())};
  Bson first = client.command("local", json(R"({"find": "oplog.rs", "filter": {}, "tailable": true, "batchSize": 1})"));
  auto id = *BsonView(first).integer("cursor.id");
  std::string filler(64 * 1024, 'x');
  for (int i = 0; i < 40; ++i) {  // 2.5 MB through a 1 MB oplog
    client.command("roll", mongo::BsonBuilder().append("insert", "c")
                               .append_array("documents", std::vector<Bson>{mongo::BsonBuilder().append("pad", filler).build()})
                               .build());
  }
  int code = 0;
  try {
    client.command("local", mongo::BsonBuilder().append("getMore", id).append("collection", "oplog.rs").build());
  } catch (const ServerError& error) {
    code = error.server_code();
  }
  EXPECT_EQ(code, 136);
  Bson oldest = client.command("local", json(R"({"find": "oplog.rs", "filter": {}, "limit": 1})"));
  EXPECT_EQ(BsonView(oldest).documents("cursor.firstBatch").size(), 1u) << "the oplog kept its newest entries";
}

}  // namespace
}  // namespace shardsafe

// Durability and replica sets: kill -9 of a member keeps every acknowledged write, secondaries
// replicate, w:"majority" waits for them, and a new primary is elected when the old one dies.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "common/error.h"
#include "mongo/client.h"
#include "support/eventually.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using mongo::Bson;
using mongo::BsonView;
using testing::SandboxReplSet;
using testing::eventually;
using Clock = std::chrono::steady_clock;

Bson json(std::string_view text) { return Bson::from_json(text); }

std::int64_t count_on(const std::string& uri, const std::string& db, const std::string& coll) {
  mongo::Client client{mongo::Uri(uri)};
  Bson reply = client.command(db, mongo::BsonBuilder().append("count", coll).build(),
                              mongo::ReadPreference::kSecondaryPreferred);
  return BsonView(reply).integer("n").value_or(-1);
}


bool is_primary(const std::string& member_uri) {
  mongo::Client client{mongo::Uri(member_uri)};
  return BsonView(client.command("admin", json(R"({"hello": 1})"))).boolean("isWritablePrimary").value_or(false);
}

int primary_index(const SandboxReplSet& set, int members) {
  for (int i = 0; i < members; ++i) {
    try {
      if (is_primary(set.member_uri(i))) return i;
    } catch (const Error&) {
    }
  }
  return -1;
}

void insert_range(mongo::Client& client, const std::string& coll, int from, int to, const std::string& w) {
  std::vector<Bson> docs;
  for (int i = from; i < to; ++i) docs.push_back(mongo::BsonBuilder().append("_id", i).build());
  Bson concern = mongo::BsonBuilder().append("w", w).build();
  if (w == "1") concern = mongo::BsonBuilder().append("w", 1).build();
  client.command("dur", mongo::BsonBuilder().append("insert", coll).append_array("documents", docs)
                            .append("writeConcern", concern).build());
}

TEST(SandboxDurability, KillNineThenRestartKeepsEveryAcknowledgedWrite) {
  SandboxReplSet set(SandboxReplSet::Options{});
  {
    mongo::Client client{mongo::Uri(set.uri())};
    insert_range(client, "kept", 0, 500, "1");
    client.command("dur", json(R"({"update": "kept", "updates": [{"q": {"_id": 7}, "u": {"$set": {"seven": true}}}]})"));
    client.command("dur", json(R"({"delete": "kept", "deletes": [{"q": {"_id": 8}, "limit": 1}]})"));
    client.command("dur", json(R"({"createIndexes": "kept", "indexes": [{"key": {"seven": 1}, "name": "seven_1"}]})"));
  }
  set.kill_member(0);
  set.restart_member(0);
  ASSERT_TRUE(eventually([&] { return is_primary(set.member_uri(0)); }, std::chrono::seconds(20)));
  mongo::Client client{mongo::Uri(set.uri())};
  EXPECT_EQ(BsonView(client.command("dur", json(R"({"count": "kept"})"))).integer("n"), 499);
  auto cursor = client.find("dur", "kept", json(R"({"_id": 7})"));
  const bson_t* seven = cursor.next();
  ASSERT_NE(seven, nullptr);
  EXPECT_EQ(BsonView(seven).boolean("seven"), true);
  auto indexes = client.command_cursor("dur", json(R"({"listIndexes": "kept"})"));
  int index_count = 0;
  while (indexes.next()) ++index_count;
  EXPECT_EQ(index_count, 2);
  auto oplog = client.find("local", "oplog.rs", json(R"({"ns": "dur.kept", "op": "i"})"));
  int inserts = 0;
  while (oplog.next()) ++inserts;
  EXPECT_EQ(inserts, 500) << "the oplog survives the crash too";
}

TEST(SandboxReplication, SecondariesReplicateAndANewPrimaryKeepsMajorityWrites) {
  constexpr int kMembers = 3;
  SandboxReplSet set(SandboxReplSet::Options{.name = "rs0", .members = kMembers, .oplog_size_mb = 64});
  int old_primary = primary_index(set, kMembers);
  ASSERT_GE(old_primary, 0);
  {
    mongo::Client client{mongo::Uri(set.uri())};
    insert_range(client, "rep", 0, 300, "majority");
  }
  for (int i = 0; i < kMembers; ++i) {
    EXPECT_TRUE(eventually([&] { return count_on(set.member_uri(i), "dur", "rep") == 300; }, std::chrono::seconds(10)))
        << "member " << i;
  }
  // Reads on a secondary need secondaryOk; writes are refused.
  int secondary = (old_primary + 1) % kMembers;
  mongo::Client direct{mongo::Uri(set.member_uri(secondary))};
  int write_code = 0;
  try {
    direct.command("dur", json(R"({"insert": "rep", "documents": [{"_id": "no"}]})"));
  } catch (const ServerError& error) {
    write_code = error.server_code();
  }
  EXPECT_EQ(write_code, 10107);

  set.kill_member(old_primary);
  int new_primary = -1;
  ASSERT_TRUE(eventually([&] {
    new_primary = primary_index(set, kMembers);
    return new_primary >= 0 && new_primary != old_primary;
  }, std::chrono::seconds(40)));  // 5-7 s when quiet; generous for a loaded 2-core machine
  EXPECT_EQ(count_on(set.member_uri(new_primary), "dur", "rep"), 300) << "no acknowledged w:majority write is lost";
  {
    mongo::Client client{mongo::Uri(set.uri())};
    insert_range(client, "rep", 300, 400, "majority");
  }
  set.restart_member(old_primary);
  EXPECT_TRUE(eventually([&] { return count_on(set.member_uri(old_primary), "dur", "rep") == 400; },
                         std::chrono::seconds(40)))
      << "the restarted member catches up as a secondary";
  EXPECT_FALSE(is_primary(set.member_uri(old_primary)));
}

TEST(SandboxReplication, StepDownHandsOverToAnotherPrimary) {
  constexpr int kMembers = 3;
  SandboxReplSet set(SandboxReplSet::Options{.name = "rs0", .members = kMembers, .oplog_size_mb = 64});
  int old_primary = primary_index(set, kMembers);
  ASSERT_GE(old_primary, 0);
  mongo::Client direct{mongo::Uri(set.member_uri(old_primary))};
  direct.command("admin", json(R"({"replSetStepDown": 30})"));
  int new_primary = -1;
  ASSERT_TRUE(eventually([&] {
    new_primary = primary_index(set, kMembers);
    return new_primary >= 0;
  }, std::chrono::seconds(20)));
  EXPECT_NE(new_primary, old_primary);
  mongo::Client client{mongo::Uri(set.uri())};
  insert_range(client, "after", 0, 10, "majority");
  Bson status = client.command("admin", json(R"({"replSetGetStatus": 1})"));
  int primaries = 0;
  for (const Bson& member : BsonView(status).documents("members")) {
    if (BsonView(member).string("stateStr") == "PRIMARY") ++primaries;
  }
  EXPECT_EQ(primaries, 1);
}

}  // namespace
}  // namespace shardsafe

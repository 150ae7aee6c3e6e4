// Fidelity: a dataset with every BSON type, documents near 16 MiB, empty and capped collections,
// unicode and dotted names, 500 collections and every index kind, backed up under a concurrent
// write load and restored into a fresh set, must come back identical: every document byte for
// byte (hashed in _id order), every index spec, and the concurrent writes cut at one point.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "coordinator/backup.h"
#include "coordinator/restore.h"
#include "dump/fingerprint.h"
#include "storage/open.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using testing::SandboxReplSet;
using testing::TempDir;

const mongo::Bson kMajority = mongo::BsonBuilder().append("w", "majority").build();

void insert(mongo::Client& client, const std::string& db, const std::string& coll, const std::vector<mongo::Bson>& docs) {
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& doc : docs) raw.push_back(doc.bytes());
  client.insert_many(db, coll, raw, true, kMajority);
}

// One document holding every BSON type, in canonical extended JSON so nothing is lost on parse.
mongo::Bson every_type_document(int id) {
  return mongo::Bson::from_json(R"({
    "_id": {"$numberInt": ")" + std::to_string(id) + R"("},
    "double": {"$numberDouble": "1.5"}, "nan": {"$numberDouble": "NaN"}, "negzero": {"$numberDouble": "-0.0"},
    "inf": {"$numberDouble": "-Infinity"}, "string": "héllo wörld ✓", "doc": {"a": {"b": [1, {"c": null}]}},
    "array": [[], [[1]], {"x": 1}], "bin0": {"$binary": {"base64": "AAEC", "subType": "00"}},
    "bin4": {"$binary": {"base64": "c//SZESzTGmQ6OfR38A11A==", "subType": "04"}},
    "bin80": {"$binary": {"base64": "AQ==", "subType": "80"}}, "undef": {"$undefined": true},
    "oid": {"$oid": "5f0c3c1e9b1e8b1a2c3d4e5f"}, "bool": false, "date": {"$date": {"$numberLong": "-1"}},
    "null": null, "regex": {"$regularExpression": {"pattern": "^a.*b$", "options": "imsx"}},
    "dbptr": {"$dbPointer": {"$ref": "db.c", "$id": {"$oid": "5f0c3c1e9b1e8b1a2c3d4e5f"}}},
    "code": {"$code": "function() { return 1; }"},
    "symbol": {"$symbol": "sym"}, "codews": {"$code": "x", "$scope": {"y": 1}},
    "int32": {"$numberInt": "-2147483648"}, "ts": {"$timestamp": {"t": 1, "i": 2}},
    "int64": {"$numberLong": "9223372036854775807"}, "dec": {"$numberDecimal": "-1.234E+5000"},
    "dec_nan": {"$numberDecimal": "NaN"}, "min": {"$minKey": 1}, "max": {"$maxKey": 1}
  })");
}

void load_fidelity_dataset(mongo::Client& client) {
  std::vector<mongo::Bson> docs;
  for (int i = 0; i < 50; ++i) docs.push_back(every_type_document(i));
  insert(client, "types", "every_type", docs);

  // Two documents near the 16 MiB limit.
  for (int i = 0; i < 2; ++i) {
    insert(client, "big", "near_limit",
           {mongo::BsonBuilder().append("_id", i).append("blob", std::string(16 * 1024 * 1024 - 200, static_cast<char>('a' + i))).build()});
  }
  client.command("empty", mongo::Bson::from_json(R"({"create": "nothing"})"));
  client.command("capped", mongo::Bson::from_json(R"({"create": "ring", "capped": true, "size": 4096, "max": 10})"));
  for (int i = 0; i < 30; ++i) insert(client, "capped", "ring", {mongo::BsonBuilder().append("_id", i).build()});
  client.command("validated", mongo::Bson::from_json(
      R"({"create": "strict", "validator": {"name": {"$exists": true}}, "validationLevel": "moderate",
          "collation": {"locale": "fr", "strength": 2}})"));
  insert(client, "validated", "strict", {mongo::BsonBuilder().append("_id", 1).append("name", "ok").build()});
  insert(client, "ünïcødé_db", "コレクション.with.dots", {mongo::BsonBuilder().append("_id", "ключ").build()});
  client.command("views", mongo::Bson::from_json(R"({"create": "items", "capped": false})"));
  insert(client, "views", "items", {mongo::BsonBuilder().append("_id", 1).append("x", 5).build()});
  client.command("views", mongo::Bson::from_json(
      R"({"create": "big_items", "viewOn": "items", "pipeline": [{"$match": {"x": {"$gt": 1}}}]})"));

  client.command("indexed", mongo::Bson::from_json(R"({"createIndexes": "all_kinds", "indexes": [
      {"key": {"a": 1, "b": -1}, "name": "compound"},
      {"key": {"u": 1}, "name": "unique_u", "unique": true},
      {"key": {"p": 1}, "name": "partial_p", "partialFilterExpression": {"p": {"$exists": true}}},
      {"key": {"s": 1}, "name": "sparse_s", "sparse": true},
      {"key": {"created": 1}, "name": "ttl", "expireAfterSeconds": 3600},
      {"key": {"_fts": "text", "_ftsx": 1}, "name": "text_body", "weights": {"body": 1}, "default_language": "english",
       "language_override": "language", "textIndexVersion": 3},
      {"key": {"loc": "2dsphere"}, "name": "geo", "2dsphereIndexVersion": 3},
      {"key": {"name": 1}, "name": "collated", "collation": {"locale": "en", "strength": 1}}]})"));
  insert(client, "indexed", "all_kinds", {mongo::Bson::from_json(R"({"_id": 1, "a": 1, "b": 2, "u": 1, "body": "text"})")});

  for (int i = 0; i < 500; ++i) {
    insert(client, "many", "c" + std::to_string(i), {mongo::BsonBuilder().append("_id", i).append("v", i * 2).build()});
  }
}

TEST(Fidelity, EverythingComesBackIdenticalUnderConcurrentWrites) {
  TempDir dir;
  SandboxReplSet source({.name = "fid", .members = 1, .oplog_size_mb = 256});
  mongo::Client client{mongo::Uri(source.uri())};
  load_fidelity_dataset(client);
  const auto expected = dump::fingerprint(client);

  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::jthread writer([&] {
    mongo::Client load{mongo::Uri(source.uri())};
    for (int i = 0; !stop; ++i) {
      insert(load, "load", "seq", {mongo::BsonBuilder().append("_id", i).build()});
      load.command("load", mongo::Bson::from_json(R"({"update": "counter", "updates": [{"q": {"_id": "c"}, "u": {"$set": {"n": )" +
                                                  std::to_string(i) + R"(}}, "upsert": true}]})"));
      acknowledged = i + 1;
    }
  });
  while (acknowledged < 20) std::this_thread::yield();

  auto storage = storage::open_storage("file://" + (dir.path() / "b").string(), {});
  Progress progress;
  coordinator::BackupRequest backup;
  backup.uri = source.uri();
  const auto manifest = coordinator::run_backup(backup, *storage, progress);
  stop = true;
  writer.join();

  SandboxReplSet target({.name = "fid2", .members = 1, .oplog_size_mb = 256});
  coordinator::RestoreRequest restore;
  restore.backup_id = manifest.id;
  restore.target_uri = target.uri();
  coordinator::run_restore(restore, *storage, progress);

  mongo::Client restored{mongo::Uri(target.uri())};
  auto actual = dump::fingerprint(restored);
  // The load namespaces are checked by their invariant, everything else byte for byte.
  const auto seq = actual.at("load.seq");
  actual.erase("load.seq");
  actual.erase("load.counter");
  for (const auto& [ns, print] : expected) {
    ASSERT_TRUE(actual.count(ns)) << ns << " missing after restore";
    EXPECT_EQ(actual.at(ns), print) << ns;
  }
  EXPECT_EQ(actual.size(), expected.size());
  mongo::Cursor counter = restored.find("load", "counter", mongo::Bson());
  const bson_t* doc = counter.next();
  ASSERT_NE(doc, nullptr);
  // The counter is the highest _id inserted, or one behind it (see backup_restore_itest.cpp).
  const auto counter_value = static_cast<std::uint64_t>(mongo::BsonView(doc).integer("n").value_or(0));
  EXPECT_TRUE(seq.documents == counter_value + 1 || seq.documents == counter_value + 2)
      << seq.documents << " documents, counter " << counter_value;
  // Views come back with their definitions.
  mongo::Cursor views = restored.command_cursor("views", mongo::Bson::from_json(R"({"listCollections": 1, "filter": {"type": "view"}})"));
  const bson_t* view = views.next();
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(mongo::BsonView(view).string("options.viewOn"), "items");
}

}  // namespace
}  // namespace shardsafe

// Backup and restore of a replica set, end to end against sandbox replica sets over TCP and a
// real file:// storage folder.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "catalog/catalog.h"
#include "common/error.h"
#include "coordinator/backup.h"
#include "coordinator/lock.h"
#include "coordinator/restore.h"
#include "dump/archive_export.h"
#include "dump/fingerprint.h"
#include "dump/metadata.h"
#include "mongo/topology.h"
#include "storage/open.h"
#include "support/damage.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

namespace fs = std::filesystem;
using testing::SandboxReplSet;
using testing::TempDir;

const mongo::Bson kMajority = mongo::BsonBuilder().append("w", "majority").build();

void insert_json(mongo::Client& client, const std::string& db, const std::string& coll, const std::vector<std::string>& docs) {
  std::vector<mongo::Bson> owned;
  for (const auto& json : docs) owned.push_back(mongo::Bson::from_json(json));
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& doc : owned) raw.push_back(doc.bytes());
  client.insert_many(db, coll, raw, true, kMajority);
}

void load_sample(mongo::Client& client) {
  std::vector<std::string> docs;
  for (int i = 0; i < 3000; ++i) {
    docs.push_back(R"({"_id": )" + std::to_string(i) + R"(, "name": "item )" + std::to_string(i) +
                   R"(", "price": {"$numberDecimal": "1.25"}, "tags": ["a", "b"], "at": {"$date": 1700000000000}})");
  }
  insert_json(client, "shop", "items", docs);
  insert_json(client, "shop", "empty_but_indexed", {R"({"_id": 1})"});
  client.command("shop", mongo::Bson::from_json(R"({"delete": "empty_but_indexed", "deletes": [{"q": {}, "limit": 0}]})"));
  client.command("shop", mongo::Bson::from_json(R"({"createIndexes": "items", "indexes": [
      {"key": {"name": 1}, "name": "name_unique", "unique": true},
      {"key": {"price": -1, "tags": 1}, "name": "price_tags"}]})"));
  client.command("shop", mongo::Bson::from_json(R"({"createIndexes": "empty_but_indexed", "indexes": [
      {"key": {"x": 1}, "name": "x_sparse", "sparse": true}]})"));
  client.command("logs", mongo::Bson::from_json(R"({"create": "capped", "capped": true, "size": 65536})"));
  insert_json(client, "logs", "capped", {R"({"_id": 1, "m": "hello"})", R"({"_id": 2, "m": "world"})"});
}

std::string uuid_of(mongo::Client& client, const std::string& db, const std::string& collection) {
  mongo::Cursor cursor = client.command_cursor(
      db, mongo::BsonBuilder()
              .append("listCollections", 1)
              .append("filter", mongo::BsonBuilder().append("name", collection).build())
              .build());
  const bson_t* entry = cursor.next();
  return entry ? dump::uuid_of_listing(mongo::Bson::copy_of(entry)) : "";
}

class BackupRestoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  SandboxReplSet source_{{.name = "src", .members = 1}};
  std::unique_ptr<storage::Storage> storage_ = storage::open_storage("file://" + (dir_.path() / "backups").string(), {});
  Progress progress_;

  catalog::Manifest backup() {
    coordinator::BackupRequest request;
    request.uri = source_.uri();
    return coordinator::run_backup(request, *storage_, progress_);
  }
  dump::RestoreSummary restore(const std::string& id, const std::string& target, bool drop = false) {
    coordinator::RestoreRequest request;
    request.backup_id = id;
    request.target_uri = target;
    request.options.drop = drop;
    return coordinator::run_restore(request, *storage_, progress_);
  }
};

TEST_F(BackupRestoreTest, ABackupWaitsForTheLockWhileAShortOperationHoldsIt) {
  coordinator::BackupRequest request;
  request.uri = source_.uri();
  auto held = std::make_unique<coordinator::OperationLock>(mongo::Uri(source_.uri()), "incremental backup");
  try {
    coordinator::run_backup(request, *storage_, progress_);  // lock_wait 0: refused at once
    FAIL() << "expected a conflict";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kConflict);
    EXPECT_NE(std::string(error.what()).find("incremental backup holds the lock"), std::string::npos) << error.what();
  }
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    held.reset();
  });
  request.lock_wait = std::chrono::seconds(30);
  const auto started = std::chrono::steady_clock::now();
  const auto manifest = coordinator::run_backup(request, *storage_, progress_);
  release.join();
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900)) << "it waited for the holder";
  EXPECT_EQ(manifest.kind, "full");
}

TEST_F(BackupRestoreTest, RoundTripIntoAFreshSetIsIdentical) {
  mongo::Client source{mongo::Uri(source_.uri())};
  load_sample(source);
  const auto expected = dump::fingerprint(source);
  const auto manifest = backup();
  EXPECT_EQ(manifest.total_documents(), 3002u);
  ASSERT_EQ(catalog::Catalog(*storage_).list().size(), 1u);

  SandboxReplSet target({.name = "dst", .members = 1});
  const auto summary = restore(manifest.id, target.uri());
  EXPECT_EQ(summary.documents, 3002u);
  mongo::Client restored{mongo::Uri(target.uri())};
  EXPECT_EQ(dump::fingerprint(restored), expected);
  // A fresh target holds none of the dumped UUIDs: every collection keeps its own.
  EXPECT_EQ(summary.uuids_preserved, summary.collections);
  for (const auto& [db, collection] : {std::pair{"shop", "items"}, {"shop", "empty_but_indexed"}, {"logs", "capped"}}) {
    EXPECT_FALSE(uuid_of(source, db, collection).empty());
    EXPECT_EQ(uuid_of(restored, db, collection), uuid_of(source, db, collection)) << db << "." << collection;
  }
}

TEST_F(BackupRestoreTest, WritesDuringTheBackupLandOnOneConsistentPoint) {
  mongo::Client source{mongo::Uri(source_.uri())};
  load_sample(source);
  // The writer inserts _id 0,1,2,... into one collection and then records the same number in a
  // counter document of another: at any single point in time the counter is the highest _id,
  // or one behind it (between the two writes). A dump without its oplog replay, where the two
  // collections are read at different times, breaks this.
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::jthread writer([&] {
    mongo::Client client{mongo::Uri(source_.uri())};
    for (int i = 0; !stop; ++i) {
      insert_json(client, "load", "seq", {R"({"_id": )" + std::to_string(i) + "}"});
      client.command("load", mongo::Bson::from_json(R"({"update": "counter", "updates": [{"q": {"_id": "c"}, "u": {"$set": {"n": )" +
                                                    std::to_string(i) + R"(}}, "upsert": true}]})"));
      acknowledged = i + 1;
    }
  });
  while (acknowledged < 50) std::this_thread::yield();
  const auto manifest = backup();
  stop = true;
  writer.join();

  SandboxReplSet target({.name = "dst", .members = 1});
  restore(manifest.id, target.uri());
  mongo::Client restored{mongo::Uri(target.uri())};
  const mongo::Bson count = restored.command("load", mongo::Bson::from_json(R"({"count": "seq"})"));
  const auto documents = mongo::BsonView(count).integer("n").value_or(-1);
  mongo::Cursor counter = restored.find("load", "counter", mongo::Bson());
  const bson_t* doc = counter.next();
  ASSERT_NE(doc, nullptr);
  const auto counter_value = mongo::BsonView(doc).integer("n").value_or(-100);
  EXPECT_TRUE(documents == counter_value + 1 || documents == counter_value + 2)
      << "collections restored at different points: " << documents << " documents, counter " << counter_value;
  EXPECT_GE(documents, 50);
  EXPECT_LE(documents, acknowledged.load());
}

bool starts_with_gzip_magic(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[2] = {};
  in.read(magic, 2);
  return in && static_cast<unsigned char>(magic[0]) == 0x1f && static_cast<unsigned char>(magic[1]) == 0x8b;
}

// --compression gzip writes mongodump --gzip's tree, quirk included: the oplog is gzipped but
// named plain oplog.bson. Reading the folder as a foreign mongodump directory restores it all.
TEST_F(BackupRestoreTest, GzipBackupIsMongodumpGzipTree) {
  mongo::Client source{mongo::Uri(source_.uri())};
  load_sample(source);
  const auto expected = dump::fingerprint(source);
  coordinator::BackupRequest request;
  request.uri = source_.uri();
  request.dump.stream.compression = storage::Compression::kGzip;
  const auto manifest = coordinator::run_backup(request, *storage_, progress_);

  const fs::path tree = dir_.path() / "backups" / catalog::Catalog::backup_prefix(manifest.id) / "src";
  for (const char* name : {"shop/items.bson.gz", "shop/items.metadata.json.gz", "logs/capped.bson.gz", "oplog.bson"}) {
    EXPECT_TRUE(starts_with_gzip_magic(tree / name)) << name;
  }
  EXPECT_FALSE(fs::exists(tree / "oplog.bson.gz"));

  TempDir other;
  auto imported_storage = storage::open_storage("file://" + other.path().string(), {});
  const auto imported = dump::import_dump_directory(tree, *imported_storage, {});
  SandboxReplSet target({.name = "dst", .members = 1});
  coordinator::RestoreRequest restore_request;
  restore_request.backup_id = imported.id;
  restore_request.target_uri = target.uri();
  coordinator::run_restore(restore_request, *imported_storage, progress_);
  mongo::Client restored{mongo::Uri(target.uri())};
  EXPECT_EQ(dump::fingerprint(restored), expected);
}

TEST_F(BackupRestoreTest, RefusesToOverwriteDataWithoutDropAndChangesNothing) {
  mongo::Client source{mongo::Uri(source_.uri())};
  load_sample(source);
  const auto manifest = backup();
  source.command("shop", mongo::Bson::from_json(R"({"update": "items", "updates": [{"q": {"_id": 1}, "u": {"$set": {"name": "changed"}}}]})"));
  const auto before = dump::fingerprint(source);
  try {
    restore(manifest.id, source_.uri());
    FAIL() << "expected a refusal";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kAlreadyExists);
    EXPECT_NE(std::string(error.what()).find("shop.items"), std::string::npos) << error.what();
  }
  EXPECT_EQ(dump::fingerprint(source), before);
}

TEST_F(BackupRestoreTest, DropReplacesTheDataInPlace) {
  mongo::Client source{mongo::Uri(source_.uri())};
  load_sample(source);
  const auto expected = dump::fingerprint(source);
  const auto manifest = backup();
  const auto items_uuid = uuid_of(source, "shop", "items");
  const auto capped_uuid = uuid_of(source, "logs", "capped");
  source.command("shop", mongo::Bson::from_json(R"({"drop": "items"})"));
  insert_json(source, "logs", "capped", {R"({"_id": 3, "m": "after"})"});
  restore(manifest.id, source_.uri(), /*drop=*/true);
  EXPECT_EQ(dump::fingerprint(source), expected);
  // shop.items was dropped, so its UUID was free; logs.capped's was held by the copy set aside
  // until the restore succeeded, so the restored collection got a new one.
  EXPECT_EQ(uuid_of(source, "shop", "items"), items_uuid);
  EXPECT_NE(uuid_of(source, "logs", "capped"), capped_uuid);
  EXPECT_FALSE(uuid_of(source, "logs", "capped").empty());
}

std::vector<std::string> documents_of(mongo::Client& client, const std::string& db, const std::string& collection) {
  std::vector<std::string> out;
  mongo::Cursor cursor = client.find(db, collection, mongo::Bson(),
                                     mongo::BsonBuilder().append("sort", mongo::BsonBuilder().append("_id", 1).build()).build());
  while (const bson_t* doc = cursor.next()) {
    const std::unique_ptr<char, decltype(&bson_free)> json(bson_as_canonical_extended_json(doc, nullptr), bson_free);
    out.emplace_back(json.get());
  }
  return out;
}

std::vector<std::string> admin_collections(mongo::Client& client) {
  std::vector<std::string> names;
  mongo::Cursor cursor = client.command_cursor("admin", mongo::Bson::from_json(R"({"listCollections": 1, "nameOnly": true})"));
  while (const bson_t* entry = cursor.next()) names.push_back(mongo::BsonView(entry).string("name").value_or(""));
  std::sort(names.begin(), names.end());
  return names;
}

// Users and roles go through the server's _mergeAuthzCollections, as mongorestore sends them:
// into a fresh set they arrive with their credentials; with --drop they replace the target's;
// a failure after the merge puts the target's own back.
TEST_F(BackupRestoreTest, UsersAndRolesAreMergedAndPutBackOnFailure) {
  mongo::Client source{mongo::Uri(source_.uri())};
  load_sample(source);
  source.command("shop", mongo::Bson::from_json(R"({"createRole": "reader", "roles": [],
      "privileges": [{"resource": {"db": "shop", "collection": ""}, "actions": ["find"]}]})"));
  source.command("shop", mongo::Bson::from_json(R"({"createUser": "alice", "pwd": "first", "roles": ["reader"]})"));
  source.command("admin", mongo::Bson::from_json(R"({"createUser": "bob", "pwd": "second", "roles": ["readAnyDatabase"]})"));
  const auto users = documents_of(source, "admin", "system.users");
  const auto roles = documents_of(source, "admin", "system.roles");
  ASSERT_EQ(users.size(), 2u);
  const auto manifest = backup();

  SandboxReplSet target({.name = "dst", .members = 1});
  const auto summary = restore(manifest.id, target.uri());
  EXPECT_TRUE(summary.users_and_roles);
  mongo::Client restored{mongo::Uri(target.uri())};
  EXPECT_EQ(documents_of(restored, "admin", "system.users"), users);
  EXPECT_EQ(documents_of(restored, "admin", "system.roles"), roles);

  source.command("shop", mongo::Bson::from_json(R"({"updateUser": "alice", "pwd": "changed"})"));
  source.command("admin", mongo::Bson::from_json(R"({"createUser": "carol", "pwd": "third", "roles": []})"));
  const auto admin_before = admin_collections(source);
  restore(manifest.id, source_.uri(), /*drop=*/true);
  EXPECT_EQ(documents_of(source, "admin", "system.users"), users) << "--drop replaces the users";
  EXPECT_EQ(admin_collections(source), admin_before) << "no temporary collection is left behind";

  source.command("shop", mongo::Bson::from_json(R"({"updateUser": "alice", "pwd": "changed again"})"));
  source.command("admin", mongo::Bson::from_json(R"({"createUser": "dave", "pwd": "fourth", "roles": []})"));
  const auto users_before = documents_of(source, "admin", "system.users");
  // The oplog is read after the users are merged: a damaged oplog fails the restore then.
  const fs::path oplog = dir_.path() / "backups" / manifest.replica_sets.front().oplog.parts.front().key;
  std::fstream stream(oplog, std::ios::in | std::ios::out | std::ios::binary);
  stream.seekp(static_cast<std::streamoff>(fs::file_size(oplog) / 2));
  stream.put('\x5a');
  stream.close();
  EXPECT_THROW(restore(manifest.id, source_.uri(), /*drop=*/true), Error);
  EXPECT_EQ(documents_of(source, "admin", "system.users"), users_before);
  EXPECT_EQ(admin_collections(source), admin_before);
}

// A dump whose oplog creates a collection, written by hand as mongodump --oplog writes one,
// from the source's real oplog entries. Its stored oplog is damaged in its last entry, so the
// replay applies every entry (creating late.born) before the checksum fails at the end: the
// rollback must drop late.born too, not only what the restore created itself.
TEST_F(BackupRestoreTest, RollbackDropsCollectionsTheOplogReplayCreated) {
  mongo::Client source{mongo::Uri(source_.uri())};
  insert_json(source, "base", "kept", {R"({"_id": 1})"});
  const auto start = mongo::newest_oplog_ts(source);
  insert_json(source, "late", "born", {R"({"_id": 1})", R"({"_id": 2, "marker": "zzzzzzzzzzzzzzzz"})"});

  const fs::path tree = dir_.path() / "dump";
  fs::create_directories(tree / "base");
  const auto kept = mongo::BsonBuilder().append("_id", 1).build();
  std::ofstream(tree / "base" / "kept.bson", std::ios::binary)
      .write(reinterpret_cast<const char*>(kept.bytes().data()), static_cast<std::streamsize>(kept.bytes().size()));
  std::ofstream(tree / "base" / "kept.metadata.json") << R"({"indexes":[{"v":2,"key":{"_id":1},"name":"_id_"}],"collectionName":"kept"})";
  {
    std::ofstream oplog(tree / "oplog.bson", std::ios::binary);
    mongo::Cursor entries = source.find("local", "oplog.rs", mongo::BsonBuilder()
        .append("ts", mongo::BsonBuilder().append("$gt", start).build()).build());
    while (const bson_t* entry = entries.next()) oplog.write(reinterpret_cast<const char*>(bson_get_data(entry)), entry->len);
  }
  dump::ImportOptions plain;
  plain.stream.compression = storage::Compression::kNone;
  const auto imported = dump::import_dump_directory(tree, *storage_, plain);
  const fs::path stored = dir_.path() / "backups" / imported.replica_sets.front().oplog.parts.front().key;
  std::string bytes;
  {
    std::ifstream in(stored, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto marker = bytes.rfind("zzzzzzzz");
  ASSERT_NE(marker, std::string::npos);
  bytes[marker] = 'y';
  std::ofstream(stored, std::ios::binary | std::ios::trunc) << bytes;

  SandboxReplSet target({.name = "dst", .members = 1});
  mongo::Client client{mongo::Uri(target.uri())};
  insert_json(client, "other", "untouched", {R"({"_id": 1})"});
  const auto before = dump::fingerprint(client);
  try {
    restore(imported.id, target.uri());
    FAIL() << "expected a checksum error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kChecksumMismatch) << error.what();
  }
  EXPECT_EQ(uuid_of(client, "late", "born"), "") << "the collection the replay created must be dropped";
  EXPECT_EQ(dump::fingerprint(client), before);
}

TEST_F(BackupRestoreTest, CorruptObjectFailsTheRestoreAndRollsBack) {
  mongo::Client source{mongo::Uri(source_.uri())};
  load_sample(source);
  const auto manifest = backup();
  source.command("shop", mongo::Bson::from_json(R"({"update": "items", "updates": [{"q": {}, "u": {"$set": {"v": 2}}, "multi": true}]})"));
  const auto before = dump::fingerprint(source);
  // Flip one byte in the middle of the stored items data.
  std::string items_key;
  for (const auto& entry : manifest.replica_sets.front().collections) {
    if (entry.name == "items") items_key = entry.data.parts.front().key;
  }
  testing::flip_middle_byte(dir_.path() / "backups" / items_key);
  try {
    restore(manifest.id, source_.uri(), /*drop=*/true);
    FAIL() << "expected a checksum error";
  } catch (const Error& error) {
    EXPECT_TRUE(error.code() == ErrorCode::kChecksumMismatch || error.code() == ErrorCode::kCorruptData) << error.what();
    EXPECT_NE(std::string(error.what()).find("items"), std::string::npos) << error.what();
  }
  EXPECT_EQ(dump::fingerprint(source), before) << "a failed restore must leave the target as it was";
}

TEST_F(BackupRestoreTest, UnknownBackupIdIsNamed) {
  try {
    restore("2020-01-01T00-00-00Z", source_.uri());
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(error.what()).find("2020-01-01T00-00-00Z"), std::string::npos);
  }
}

TEST_F(BackupRestoreTest, UnreachableServerFailsWithoutListingABackupOrLeakingThePassword) {
  coordinator::BackupRequest request;
  request.uri = "mongodb://admin:hunter2@127.0.0.1:1/?replicaSet=rs0&serverSelectionTimeoutMS=500";
  try {
    coordinator::run_backup(request, *storage_, progress_);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kConnection) << error.what();
    EXPECT_EQ(std::string(error.what()).find("hunter2"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(catalog::Catalog(*storage_).list().empty());
}

}  // namespace
}  // namespace shardsafe

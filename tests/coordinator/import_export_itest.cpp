// Dumps in mongodump's own formats: a backup exported as an --archive and imported back, and a
// mongodump directory tree written by hand (no shardsafe manifest) imported and restored.
#include <gtest/gtest.h>

#include <fstream>

#include "catalog/catalog.h"
#include "common/error.h"
#include "coordinator/backup.h"
#include "coordinator/restore.h"
#include "dump/archive_export.h"
#include "dump/fingerprint.h"
#include "storage/open.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

namespace fs = std::filesystem;
using testing::SandboxReplSet;
using testing::TempDir;

void load(mongo::Client& client) {
  std::vector<mongo::Bson> docs;
  for (int i = 0; i < 1500; ++i) docs.push_back(mongo::BsonBuilder().append("_id", i).append("v", std::to_string(i)).build());
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& doc : docs) raw.push_back(doc.bytes());
  client.insert_many("app", "data", raw, true);
  client.command("app", mongo::Bson::from_json(R"({"createIndexes": "data", "indexes": [{"key": {"v": 1}, "name": "v_1"}]})"));
  client.command("app", mongo::Bson::from_json(R"({"create": "recent", "viewOn": "data", "pipeline": [{"$match": {"_id": {"$gt": 1400}}}]})"));
}

dump::RestoreSummary restore_into(storage::Storage& storage, const std::string& id, const std::string& uri) {
  coordinator::RestoreRequest request;
  request.backup_id = id;
  request.target_uri = uri;
  Progress progress;
  return coordinator::run_restore(request, storage, progress);
}

TEST(ImportExport, ArchiveRoundTripRestoresTheSameData) {
  TempDir dir;
  SandboxReplSet source({.name = "arc", .members = 1});
  mongo::Client client{mongo::Uri(source.uri())};
  load(client);
  const auto expected = dump::fingerprint(client);
  auto storage = storage::open_storage("file://" + (dir.path() / "b").string());
  Progress progress;
  coordinator::BackupRequest backup;
  backup.uri = source.uri();
  const auto manifest = coordinator::run_backup(backup, *storage, progress);

  auto folder = storage::open_storage("file://" + dir.path().string());
  auto writer = folder->create("dump.archive");
  EXPECT_EQ(dump::export_archive(*storage, manifest.replica_sets.front(), std::nullopt, *writer), 1500u);
  writer->commit();

  auto archive = folder->open("dump.archive");
  const auto imported = dump::import_archive(*archive, "dump.archive", *storage, {});
  EXPECT_EQ(imported.total_documents(), 1500u);
  EXPECT_NE(imported.id, manifest.id);

  SandboxReplSet target({.name = "arc2", .members = 1});
  restore_into(*storage, imported.id, target.uri());
  mongo::Client restored{mongo::Uri(target.uri())};
  EXPECT_EQ(dump::fingerprint(restored), expected);
}

TEST(ImportExport, CorruptArchiveIsRefusedAndNothingIsListed) {
  TempDir dir;
  std::ofstream(dir.path() / "bad.archive") << "this is not an archive";
  auto storage = storage::open_storage("file://" + (dir.path() / "b").string());
  auto folder = storage::open_storage("file://" + dir.path().string());
  auto archive = folder->open("bad.archive");
  try {
    dump::import_archive(*archive, "bad.archive", *storage, {});
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
    EXPECT_NE(std::string(error.what()).find("bad.archive"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(catalog::Catalog(*storage).list().empty());
}

// A dump directory as mongodump writes it, built byte by byte here: BSON files of concatenated
// documents and metadata.json files in the legacy relaxed form ("v": 2) older tools wrote.
TEST(ImportExport, HandWrittenMongodumpDirectoryIsImportedAndRestored) {
  TempDir dir;
  const fs::path dump = dir.path() / "dump";
  fs::create_directories(dump / "legacy");
  {
    std::ofstream data(dump / "legacy" / "people.bson", std::ios::binary);
    for (int i = 0; i < 10; ++i) {
      const auto doc = mongo::BsonBuilder().append("_id", i).append("name", "person " + std::to_string(i)).build();
      data.write(reinterpret_cast<const char*>(doc.bytes().data()), static_cast<std::streamsize>(doc.bytes().size()));
    }
    std::ofstream(dump / "legacy" / "people.metadata.json")
        << R"({"options":{},"indexes":[{"v":2,"key":{"_id":1},"name":"_id_"},{"v":2,"key":{"name":1},"name":"name_1","unique":true}],"collectionName":"people"})";
    std::ofstream(dump / "prelude.json") << R"({"ServerVersion":"7.0.14","ToolVersion":"100.9.4"})";
  }
  auto storage = storage::open_storage("file://" + (dir.path() / "b").string());
  const auto imported = dump::import_dump_directory(dump, *storage, {});
  ASSERT_EQ(imported.replica_sets.front().collections.size(), 1u);
  EXPECT_EQ(imported.total_documents(), 10u);
  EXPECT_TRUE(catalog::Catalog(*storage).verify(imported.id).ok());

  SandboxReplSet target({.name = "legacy", .members = 1});
  restore_into(*storage, imported.id, target.uri());
  mongo::Client restored{mongo::Uri(target.uri())};
  const auto prints = dump::fingerprint(restored);
  ASSERT_TRUE(prints.count("legacy.people"));
  EXPECT_EQ(prints.at("legacy.people").documents, 10u);
  EXPECT_EQ(prints.at("legacy.people").indexes.size(), 2u);
}

TEST(ImportExport, EmptyFolderIsAClearError) {
  TempDir dir;
  fs::create_directories(dir.path() / "empty");
  auto storage = storage::open_storage("file://" + (dir.path() / "b").string());
  try {
    dump::import_dump_directory(dir.path() / "empty", *storage, {});
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(error.what()).find("no mongodump files"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace shardsafe

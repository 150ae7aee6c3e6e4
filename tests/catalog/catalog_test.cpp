// Catalog over the real file:// driver in a temporary directory.
#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "catalog/manifest_json.h"
#include "catalog/operations.h"
#include "common/error.h"
#include "storage/fs/fs_storage.h"
#include "storage/hash.h"
#include "storage/temp_dir.h"

namespace shardsafe::catalog {
namespace {

using std::chrono::system_clock;

storage::StoredStream store(storage::Storage& storage, const std::string& key, const std::string& bytes) {
  storage::StreamOptions options;
  options.compression = storage::Compression::kZstd;
  auto writer = storage::write_stream(storage, key, options);
  writer->write(storage::as_bytes(bytes));
  return writer->commit();
}

class CatalogTest : public ::testing::Test {
 protected:
  // Writes a backup's objects the way the dump engine does, and returns its manifest.
  Manifest write_backup(const std::string& id, int collections = 2) {
    Manifest manifest;
    manifest.id = id;
    manifest.started_at = "2026-11-25T22:10:00Z";
    manifest.finished_at = "2026-11-25T22:11:00Z";
    manifest.consistency_point = {1764108660, 3};
    ReplicaSetBackup set;
    set.name = "rs0";
    const std::string prefix = Catalog::backup_prefix(id) + "rs0/";
    for (int i = 0; i < collections; ++i) {
      CollectionEntry collection;
      collection.db = "shop";
      collection.name = "c" + std::to_string(i);
      collection.data = store(storage_, prefix + "shop/c" + std::to_string(i) + ".bson", std::string(1000 + i, 'd'));
      collection.metadata = store(storage_, prefix + "shop/c" + std::to_string(i) + ".metadata.json", "{}");
      collection.documents = 10;
      collection.bytes = 1000 + static_cast<std::uint64_t>(i);
      set.collections.push_back(collection);
    }
    set.oplog = store(storage_, prefix + "oplog.bson", std::string(300, 'o'));
    manifest.replica_sets.push_back(set);
    return manifest;
  }

  template <typename Fn>
  Error expect_error(Fn&& fn) {
    try {
      fn();
    } catch (const Error& error) {
      return error;
    }
    ADD_FAILURE() << "no error thrown";
    return Error(ErrorCode::kInternal, "none");
  }

  storage::testing::TempDir dir_;
  storage::FsStorage storage_{dir_.path()};
  Catalog catalog_{storage_};
};

TEST_F(CatalogTest, NewIdsSortByTimeAndAvoidTakenIds) {
  const auto when = system_clock::from_time_t(1795644600);  // 2026-11-25T22:10:00Z
  const std::string first = catalog_.new_backup_id(when);
  EXPECT_EQ(first, "2026-11-25T22-10-00Z");
  store(storage_, Catalog::backup_prefix(first) + "rs0/x.bson", "x");  // taken, even uncommitted
  const std::string second = catalog_.new_backup_id(when);
  EXPECT_EQ(second, "2026-11-25T22-10-00Z-02");
  store(storage_, Catalog::backup_prefix(second) + "rs0/x.bson", "x");
  EXPECT_EQ(catalog_.new_backup_id(when), "2026-11-25T22-10-00Z-03");
  EXPECT_LT(second, catalog_.new_backup_id(when + std::chrono::seconds(1)));
}

TEST_F(CatalogTest, IdsThatCouldEscapeThePrefixAreRejected) {
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "../x", "a/b", "a\\b", "x\n", std::string(129, 'a'), std::string("a\0b", 3)}) {
    EXPECT_EQ(expect_error([&] { Catalog::backup_prefix(bad); }).code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(expect_error([&] { catalog_.load(bad); }).code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(Catalog::backup_prefix("2026-11-25T22-10-00Z"), "backups/2026-11-25T22-10-00Z/");
}

TEST_F(CatalogTest, CommitThenLoadReturnsTheManifest) {
  const Manifest manifest = write_backup("b1");
  EXPECT_TRUE(catalog_.list().empty());
  EXPECT_EQ(catalog_.list_incomplete(), std::vector<std::string>{"b1"});
  catalog_.commit(manifest);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "backups/b1/manifest.json"));
  const Manifest loaded = catalog_.load("b1");
  EXPECT_EQ(loaded.id, "b1");
  ASSERT_EQ(loaded.replica_sets.size(), 1u);
  EXPECT_EQ(loaded.replica_sets[0].collections.size(), 2u);
  EXPECT_EQ(loaded.replica_sets[0].oplog.parts[0].sha256, manifest.replica_sets[0].oplog.parts[0].sha256);
  EXPECT_TRUE(catalog_.list_incomplete().empty());
}

TEST_F(CatalogTest, CommitRefusesMissingOrShortObjectsAndSecondCommits) {
  Manifest manifest = write_backup("b1");
  manifest.replica_sets[0].collections[1].data.parts[0].size += 1;
  Error error = expect_error([&] { catalog_.commit(manifest); });
  EXPECT_EQ(error.code(), ErrorCode::kStorage);
  EXPECT_NE(std::string(error.what()).find("backups/b1/rs0/shop/c1.bson.zst"), std::string::npos) << error.what();
  manifest.replica_sets[0].collections[1].data.parts[0].size -= 1;
  storage_.remove({manifest.replica_sets[0].oplog.parts[0].key});
  error = expect_error([&] { catalog_.commit(manifest); });
  EXPECT_NE(std::string(error.what()).find("is missing from storage"), std::string::npos) << error.what();
  EXPECT_FALSE(storage_.stat(Catalog::manifest_key("b1")));  // nothing committed

  const Manifest good = write_backup("b2");
  catalog_.commit(good);
  EXPECT_EQ(expect_error([&] { catalog_.commit(good); }).code(), ErrorCode::kAlreadyExists);
}

TEST_F(CatalogTest, LoadOfAnUnknownIdNamesTheIdAndTheStorage) {
  const Error error = expect_error([&] { catalog_.load("nope"); });
  EXPECT_EQ(error.code(), ErrorCode::kNotFound);
  EXPECT_EQ(std::string(error.what()), "backup \"nope\" not found in " + storage_.describe());
}

TEST_F(CatalogTest, LoadRejectsAManifestCopiedFromAnotherBackup) {
  catalog_.commit(write_backup("b1"));
  std::filesystem::create_directories(dir_.path() / "backups/b2");
  std::filesystem::copy_file(dir_.path() / "backups/b1/manifest.json", dir_.path() / "backups/b2/manifest.json");
  EXPECT_EQ(expect_error([&] { catalog_.load("b2"); }).code(), ErrorCode::kCorruptData);
}

TEST_F(CatalogTest, ListShowsCommittedBackupsSortedWithTotals) {
  catalog_.commit(write_backup("2026-11-25T22-12-00Z", 3));
  catalog_.commit(write_backup("2026-11-25T22-10-00Z", 1));
  write_backup("2026-11-25T22-11-00Z");  // never committed
  const auto backups = catalog_.list();
  ASSERT_EQ(backups.size(), 2u);
  EXPECT_EQ(backups[0].id, "2026-11-25T22-10-00Z");
  EXPECT_EQ(backups[1].id, "2026-11-25T22-12-00Z");
  EXPECT_EQ(backups[1].collections, 3u);
  EXPECT_EQ(backups[1].documents, 30u);
  EXPECT_EQ(backups[1].raw_bytes, 1000u + 1001u + 1002u + 300u);
  EXPECT_EQ(backups[1].replica_sets, std::vector<std::string>{"rs0"});
  EXPECT_EQ(backups[1].consistency_point, (mongo::Timestamp{1764108660, 3}));
  std::uint64_t on_disk = 0;
  for (const auto& object : storage::list_all(storage_, "backups/2026-11-25T22-12-00Z/")) {
    if (!object.key.ends_with("manifest.json")) on_disk += object.size;
  }
  EXPECT_EQ(backups[1].stored_bytes, on_disk);
  EXPECT_TRUE(backups[1].problem.empty());
  EXPECT_EQ(catalog_.list_incomplete(), std::vector<std::string>{"2026-11-25T22-11-00Z"});
}

TEST_F(CatalogTest, ListShowsADamagedManifestWithItsProblem) {
  catalog_.commit(write_backup("b1"));
  std::ofstream(dir_.path() / "backups/b1/manifest.json", std::ios::app) << " ";  // harmless
  {
    std::fstream file(dir_.path() / "backups/b1/manifest.json", std::ios::in | std::ios::out);
    file.seekp(30);
    file.put('#');
  }
  const auto backups = catalog_.list();
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_EQ(backups[0].id, "b1");
  EXPECT_FALSE(backups[0].problem.empty());
}

TEST_F(CatalogTest, RemoveDeletesEverythingAndToleratesHalfRemovedBackups) {
  catalog_.commit(write_backup("b1"));
  catalog_.commit(write_backup("b2"));
  for (const char* id : {"b1", "b2"}) save_operation(storage_, {backup_operation_id(id), "backup", id, "succeeded"});
  catalog_.remove("b1");
  EXPECT_TRUE(storage::list_all(storage_, "backups/b1/").empty());
  const auto records = list_operations(storage_);
  ASSERT_EQ(records.size(), 1u) << "b1's record went with it";
  EXPECT_EQ(records[0].backup_id, "b2");
  ASSERT_EQ(catalog_.list().size(), 1u);
  EXPECT_EQ(catalog_.list()[0].id, "b2");

  // A removal interrupted after the manifest went: the rest is incomplete, and removable.
  storage_.remove({Catalog::manifest_key("b2")});
  EXPECT_TRUE(catalog_.list().empty());
  EXPECT_EQ(catalog_.list_incomplete(), std::vector<std::string>{"b2"});
  catalog_.remove("b2");
  EXPECT_TRUE(storage::list_all(storage_, "backups/").empty());
  EXPECT_EQ(expect_error([&] { catalog_.remove("b2"); }).code(), ErrorCode::kNotFound);
}

TEST_F(CatalogTest, VerifyPassesOnIntactBackup) {
  const Manifest manifest = write_backup("b1");
  catalog_.commit(manifest);
  const VerifyReport report = catalog_.verify("b1");
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.objects_checked, 2u * 2u + 1u);
  EXPECT_EQ(report.bytes_checked, manifest.total_stored_bytes());
}

TEST_F(CatalogTest, VerifyReportsFlippedTruncatedAndMissingObjects) {
  const Manifest manifest = write_backup("b1", 3);
  catalog_.commit(manifest);
  const auto& collections = manifest.replica_sets[0].collections;
  const auto flipped = dir_.path() / collections[0].data.parts[0].key;
  {
    std::fstream file(flipped, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(5);
    const char c = static_cast<char>(file.get());
    file.seekp(5);
    file.put(static_cast<char>(c ^ 0x01));
  }
  std::filesystem::resize_file(dir_.path() / collections[1].data.parts[0].key, 3);
  std::filesystem::remove(dir_.path() / manifest.replica_sets[0].oplog.parts[0].key);

  const VerifyReport report = catalog_.verify("b1");
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.objects_checked, 3u * 2u + 1u);
  ASSERT_EQ(report.bad_objects.size(), 3u);
  EXPECT_EQ(report.bad_objects[0].key, collections[0].data.parts[0].key);
  EXPECT_NE(report.bad_objects[0].problem.find("sha-256"), std::string::npos);
  EXPECT_EQ(report.bad_objects[1].key, collections[1].data.parts[0].key);
  EXPECT_NE(report.bad_objects[1].problem.find("size 3 differs"), std::string::npos);
  EXPECT_EQ(report.bad_objects[2].key, manifest.replica_sets[0].oplog.parts[0].key);
  EXPECT_EQ(report.bad_objects[2].problem, "missing");
}

TEST_F(CatalogTest, VerifyOfAFlippedManifestIsAChecksumMismatch) {
  catalog_.commit(write_backup("b1"));
  const auto path = dir_.path() / "backups/b1/manifest.json";
  std::string text;
  {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = text.find("\"documents\": 10");
  ASSERT_NE(at, std::string::npos);
  text[at + 14] = '9';  // 10 -> 19: still valid JSON
  std::ofstream(path, std::ios::trunc) << text;
  const Error error = expect_error([&] { catalog_.verify("b1"); });
  EXPECT_EQ(error.code(), ErrorCode::kChecksumMismatch);
  EXPECT_NE(std::string(error.what()).find("manifest of backup \"b1\" is corrupt"), std::string::npos);
}

TEST_F(CatalogTest, PruningOperationRecordsKeepsTheNewestAndAnyThatMayBeLive) {
  namespace fs = std::filesystem;
  const auto now = fs::file_time_type::clock::now();
  for (int i = 0; i < 6; ++i) {
    OperationRecord record;
    record.id = "backup-r" + std::to_string(i);
    record.state = "succeeded";
    save_operation(storage_, record);
    // r1 (oldest) .. r5 saved minutes ago; r0 saved just now, as a live coordinator's is.
    if (i > 0) fs::last_write_time(dir_.path() / "operations" / (record.id + ".json"), now - std::chrono::minutes(10 - i));
  }
  EXPECT_EQ(prune_operations(storage_, 2), 4u);
  std::vector<std::string> kept;
  for (const auto& record : list_operations(storage_)) kept.push_back(record.id);
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(kept, (std::vector<std::string>{"backup-r0", "backup-r5"}));
  EXPECT_EQ(prune_operations(storage_, 2), 0u);
}

}  // namespace
}  // namespace shardsafe::catalog

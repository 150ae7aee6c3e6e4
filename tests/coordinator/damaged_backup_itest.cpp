// Damaged backups and archives, end to end: each damage must give `verify`, `restore` and
// `import` an error that names the object (and the offset where the reader knows it), and must
// leave the target as it was: a restore target's collections, or an import's storage.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalog/catalog.h"
#include "catalog/manifest_json.h"
#include "common/error.h"
#include "coordinator/backup.h"
#include "coordinator/restore.h"
#include "dump/archive_export.h"
#include "dump/fingerprint.h"
#include "storage/compress.h"
#include "storage/hash.h"
#include "storage/open.h"
#include "support/damage.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

namespace fs = std::filesystem;
using testing::SandboxReplSet;
using testing::TempDir;

void insert_numbered(mongo::Client& client, const std::string& db, const std::string& coll, int count) {
  std::vector<mongo::Bson> docs;
  for (int i = 0; i < count; ++i) {
    docs.push_back(mongo::BsonBuilder().append("_id", i).append("text", "document " + std::to_string(i)).build());
  }
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& doc : docs) raw.push_back(doc.bytes());
  client.insert_many(db, coll, raw, true);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// `error` as text when `action` throws a shardsafe::Error, a test failure otherwise.
template <typename Action>
std::string error_of(Action&& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected an error";
  return "";
}

// A source set with two collections backed up into a file:// folder, and a target set with data
// of its own that a restore with --drop would replace.
class DamagedBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mongo::Client source{mongo::Uri(source_.uri())};
    insert_numbered(source, "shop", "items", 4000);
    insert_numbered(source, "shop", "notes", 10);
    mongo::Client target{mongo::Uri(target_.uri())};
    insert_numbered(target, "shop", "items", 7);
    insert_numbered(target, "other", "kept", 3);
  }

  catalog::Manifest backup(std::optional<storage::EncryptionKey> key = std::nullopt) {
    coordinator::BackupRequest request;
    request.uri = source_.uri();
    request.dump.stream.encryption = std::move(key);
    Progress progress;
    return coordinator::run_backup(request, *storage_, progress);
  }

  void restore(const std::string& id, std::optional<storage::EncryptionKey> key = std::nullopt) {
    coordinator::RestoreRequest request;
    request.backup_id = id;
    request.target_uri = target_.uri();
    request.options.drop = true;
    request.options.key = std::move(key);
    Progress progress;
    coordinator::run_restore(request, *storage_, progress);
  }

  std::map<std::string, dump::CollectionFingerprint> target_fingerprint() {
    mongo::Client target{mongo::Uri(target_.uri())};
    return dump::fingerprint(target);
  }

  // The stored file of the items collection's (only) data object.
  static std::string items_key(const catalog::Manifest& manifest) {
    for (const auto& entry : manifest.replica_sets.front().collections) {
      if (entry.name == "items") return entry.data.parts.front().key;
    }
    ADD_FAILURE() << "no items collection in the manifest";
    return "";
  }
  fs::path file_of(const std::string& key) const { return dir_.path() / "backups" / key; }

  // verify names `key` as bad with a problem containing `problem`; restore fails naming `key`
  // and containing `restore_says`, and the target is unchanged.
  void expect_refused_everywhere(const std::string& id, const std::string& key, const std::string& problem,
                                 const std::string& restore_says,
                                 const std::optional<storage::EncryptionKey>& encryption = std::nullopt) {
    const auto report = catalog::Catalog(*storage_).verify(id);
    ASSERT_EQ(report.bad_objects.size(), 1u);
    EXPECT_EQ(report.bad_objects.front().key, key);
    EXPECT_PRED2(contains, report.bad_objects.front().problem, problem);

    const auto before = target_fingerprint();
    const std::string error = error_of([&] { restore(id, encryption); });
    EXPECT_PRED2(contains, error, key);
    EXPECT_PRED2(contains, error, restore_says);
    EXPECT_EQ(target_fingerprint(), before) << "a failed restore must leave the target as it was";
  }

  TempDir dir_;
  SandboxReplSet source_{{.name = "dmgsrc", .members = 1}};
  SandboxReplSet target_{{.name = "dmgdst", .members = 1}};
  std::unique_ptr<storage::Storage> storage_ = storage::open_storage("file://" + (dir_.path() / "backups").string(), {});
};

TEST_F(DamagedBackupTest, TruncatedObjectIsNamedWithBothSizes) {
  const auto manifest = backup();
  const std::string key = items_key(manifest);
  const auto size = fs::file_size(file_of(key));
  fs::resize_file(file_of(key), size / 2);
  const std::string sizes = std::to_string(size / 2) + " bytes, the manifest says " + std::to_string(size);
  expect_refused_everywhere(manifest.id, key, "size " + std::to_string(size / 2), sizes);
}

TEST_F(DamagedBackupTest, FlippedByteInAZstdStreamIsNamed) {
  const auto manifest = backup();
  const std::string key = items_key(manifest);
  ASSERT_TRUE(key.ends_with(".zst")) << key;
  testing::flip_middle_byte(file_of(key));
  expect_refused_everywhere(manifest.id, key, "sha-256", "SHA-256");
}

TEST_F(DamagedBackupTest, EncryptedChunkCutShortIsNamed) {
  const fs::path key_file = dir_.path() / "backup.key";
  std::ofstream(key_file) << std::string(64, 'c');
  const auto encryption = storage::load_key_from_file(key_file.string());
  const auto manifest = backup(encryption);
  const std::string key = items_key(manifest);
  // Cuts the final chunk's authentication tag in half.
  const auto size = fs::file_size(file_of(key));
  fs::resize_file(file_of(key), size - 8);
  expect_refused_everywhere(manifest.id, key, "size " + std::to_string(size - 8),
                            "manifest says " + std::to_string(size), encryption);
}

TEST_F(DamagedBackupTest, ManifestWithAMissingFieldIsNamed) {
  const auto manifest = backup();
  const fs::path manifest_file = file_of(catalog::Catalog::manifest_key(manifest.id));
  auto document = nlohmann::json::parse(read_file(manifest_file));
  document["replica_sets"][0]["collections"][0]["data"]["parts"][0].erase("sha256");
  // Re-signed as catalog/README.md says, so the field check is what refuses it, not the checksum.
  document.erase("checksum");
  document["checksum"] = storage::sha256_hex(storage::as_bytes(document.dump()));
  write_file(manifest_file, document.dump(2));

  const std::string verify_error = error_of([&] { catalog::Catalog(*storage_).verify(manifest.id); });
  EXPECT_PRED2(contains, verify_error, manifest.id);
  EXPECT_PRED2(contains, verify_error, "sha256");
  const auto listed = catalog::Catalog(*storage_).list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_PRED2(contains, listed.front().problem, "sha256");

  const auto before = target_fingerprint();
  const std::string restore_error = error_of([&] { restore(manifest.id); });
  EXPECT_PRED2(contains, restore_error, manifest.id);
  EXPECT_PRED2(contains, restore_error, "sha256");
  EXPECT_EQ(target_fingerprint(), before);
}

std::string gzip(std::string_view bytes) {
  class StringSink : public storage::Sink {
   public:
    void write(std::span<const std::uint8_t> data) override { out.append(data.begin(), data.end()); }
    void finish() override {}
    std::string out;
  } out;
  auto compressor = storage::make_compress_sink(storage::Compression::kGzip, 6, 0, out);
  compressor->write(storage::as_bytes(bytes));
  compressor->finish();
  return out.out;
}

// mongodump --archive files given to `import`: damage is refused with the archive's name, and
// the storage is left without a backup or any object of one.
class DamagedArchiveTest : public DamagedBackupTest {
 protected:
  std::string exported_archive() {
    const auto manifest = backup();
    storage::Storage& storage = *storage_;
    auto folder = storage::open_storage("file://" + dir_.path().string());
    {
      auto writer = folder->create("dump.archive");
      dump::export_archive(storage, manifest.replica_sets.front(), std::nullopt, *writer);
      writer->commit();
    }
    catalog::Catalog(storage).remove(manifest.id);
    return read_file(dir_.path() / "dump.archive");
  }

  std::string import_error(std::string_view archive_bytes) {
    write_file(dir_.path() / "damaged.archive", archive_bytes);
    auto folder = storage::open_storage("file://" + dir_.path().string());
    auto archive = folder->open("damaged.archive");
    const std::string error = error_of([&] { dump::import_archive(*archive, "damaged.archive", *storage_, {}); });
    EXPECT_PRED2(contains, error, "damaged.archive");
    const auto left = storage::list_all(*storage_, "backups/");
    EXPECT_TRUE(left.empty()) << "a failed import left \"" << left.front().key << "\" behind";
    return error;
  }
};

TEST_F(DamagedArchiveTest, WrongCrcOfANamespaceIsRefused) {
  std::string archive = exported_archive();
  // The EOF block of shop.notes, {db, collection: "notes", EOF: true, CRC: <int64>}, after the
  // larger items collection was stored whole.
  const std::string notes_eof = std::string("notes\0\x08" "EOF\0\x01\x12" "CRC\0", 17);
  const auto at = archive.find(notes_eof);
  ASSERT_NE(at, std::string::npos);
  ASSERT_LT(archive.find(std::string("items\0\x08" "EOF\0\x01", 12)), at);
  archive[at + notes_eof.size()] ^= 0x01;
  const std::string error = import_error(archive);
  EXPECT_PRED2(contains, error, "shop.notes");
  EXPECT_PRED2(contains, error, "CRC");
}

TEST_F(DamagedArchiveTest, DocumentLengthPastTheEndIsRefusedAtItsOffset) {
  std::string archive = exported_archive();
  // Cut in the middle of the items' documents: the last document's length runs past the end.
  const auto cut = archive.size() / 2;
  archive.resize(cut);
  const std::string error = import_error(archive);
  EXPECT_PRED2(contains, error, "at byte ");
}

TEST_F(DamagedArchiveTest, GzippedArchiveWithAWrongCrcIsRefused) {
  const std::string plain = exported_archive();
  std::string gzipped = gzip(plain);
  // The gzip trailer: CRC-32 then ISIZE, little endian.
  gzipped[gzipped.size() - 8] ^= 0x01;
  import_error(gzipped);
}

}  // namespace
}  // namespace shardsafe

// Backup and restore through S3 (s3rver on loopback) with client-side encryption on: the
// storage driver and the workflows together, as a user with MinIO or AWS would run them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "catalog/catalog.h"
#include "common/error.h"
#include "coordinator/backup.h"
#include "coordinator/restore.h"
#include "dump/fingerprint.h"
#include "storage/open.h"
#include "storage/s3rver.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using testing::SandboxReplSet;
using testing::TempDir;

storage::EncryptionKey key_with_byte(const TempDir& dir, const std::string& name, char byte) {
  const auto path = dir.path() / name;
  std::ofstream(path) << std::string(64, byte);
  return storage::load_key_from_file(path.string());
}

TEST(S3BackupRestore, EncryptedBackupRoundTripsThroughS3AndTheWrongKeyIsRefused) {
  storage::testing::S3rver s3("backups");
  TempDir dir;
  SandboxReplSet source({.name = "s3src", .members = 1});
  mongo::Client client{mongo::Uri(source.uri())};
  std::vector<mongo::Bson> docs;
  for (int i = 0; i < 2000; ++i) {
    docs.push_back(mongo::BsonBuilder().append("_id", i).append("payload", std::string(500, 'p')).build());
  }
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& doc : docs) raw.push_back(doc.bytes());
  client.insert_many("app", "things", raw, true);
  const auto expected = dump::fingerprint(client);

  auto storage = storage::open_storage(s3.url("prod/cluster-a"));
  Progress progress;
  coordinator::BackupRequest backup;
  backup.uri = source.uri();
  backup.dump.stream.encryption = key_with_byte(dir, "good.key", 'a');
  backup.dump.stream.part_size = 256 * 1024;  // several parts per stream, multipart on S3
  const auto manifest = coordinator::run_backup(backup, *storage, progress);
  EXPECT_FALSE(manifest.encryption_key_id.empty());
  ASSERT_EQ(catalog::Catalog(*storage).list().size(), 1u);
  EXPECT_TRUE(catalog::Catalog(*storage).verify(manifest.id).ok());

  SandboxReplSet target({.name = "s3dst", .members = 1});
  coordinator::RestoreRequest restore;
  restore.backup_id = manifest.id;
  restore.target_uri = target.uri();
  restore.options.key = key_with_byte(dir, "bad.key", 'b');
  try {
    coordinator::run_restore(restore, *storage, progress);
    FAIL() << "a wrong key must be refused";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kWrongKey);
  }
  restore.options.key = key_with_byte(dir, "good.key", 'a');
  coordinator::run_restore(restore, *storage, progress);
  mongo::Client restored{mongo::Uri(target.uri())};
  EXPECT_EQ(dump::fingerprint(restored), expected);
}

}  // namespace
}  // namespace shardsafe

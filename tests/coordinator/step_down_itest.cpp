// A replica set's primary stepped down while its dump runs. The backup's job keeps reading the
// member it chose, over a direct connection: once a secondary, that member still serves the
// dump's reads and its oplog, and its history is the set's (a majority-acknowledged write is
// never rolled back), so the backup completes and restores to one consistent point.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "catalog/catalog.h"
#include "coordinator/backup.h"
#include "coordinator/restore.h"
#include "dump/fingerprint.h"
#include "mongo/topology.h"
#include "storage/open.h"
#include "support/eventually.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

namespace fs = std::filesystem;
using testing::SandboxReplSet;
using testing::TempDir;

TEST(StepDown, APrimarySteppedDownMidDumpStillGivesAConsistentBackup) {
  SandboxReplSet source({.name = "rs0", .members = 3});
  mongo::Client client{mongo::Uri(source.uri())};
  std::vector<mongo::Bson> documents;
  for (int i = 0; i < 40000; ++i) documents.push_back(mongo::BsonBuilder().append("_id", i).append("pad", std::string(800, 'p')).build());
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& document : documents) raw.push_back(document.bytes());
  client.insert_many("app", "data", raw, false, mongo::BsonBuilder().append("w", "majority").build());
  const std::string old_primary = mongo::discover_replica_set(mongo::Uri(source.uri())).primary;

  TempDir dir;
  auto storage = storage::open_storage("file://" + (dir.path() / "b").string());
  Progress progress;
  // The collection's stored stream is written to a temporary file until the dump of the
  // collection ends: while it exists, the dump is under way.
  auto dumping = [&] {
    std::error_code error;
    for (const auto& entry : fs::recursive_directory_iterator(dir.path() / "b", error)) {
      const std::string name = entry.path().filename().string();
      if (name.starts_with(".data.bson") && name.find(".shardsafe-tmp-") != std::string::npos) return true;
    }
    return false;
  };
  std::atomic<bool> backup_done{false}, stepped_down_mid_dump{false};
  std::thread step_down([&] {
    while (!backup_done && !dumping()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (backup_done) return;
    mongo::Client direct{mongo::Uri("mongodb://" + old_primary + "/?directConnection=true")};
    direct.command("admin", mongo::Bson::from_json(R"({"replSetStepDown": 30, "force": true})"));
    stepped_down_mid_dump = dumping();
  });
  coordinator::BackupRequest request;
  request.uri = source.uri();
  catalog::Manifest manifest;
  try {
    manifest = coordinator::run_backup(request, *storage, progress);
  } catch (...) {
    backup_done = true;
    step_down.join();
    throw;
  }
  backup_done = true;
  step_down.join();
  ASSERT_TRUE(stepped_down_mid_dump) << "the step-down was meant to land while the collection was being dumped";

  EXPECT_EQ(manifest.replica_sets.front().source_host, old_primary) << "the job stayed on the member it started on";
  // The set elects another primary within seconds; the old one may not stand again for 30 s.
  std::string new_primary;
  ASSERT_TRUE(testing::eventually([&] { return !(new_primary = mongo::discover_replica_set(mongo::Uri(source.uri())).primary).empty(); },
                                  std::chrono::seconds(60)));
  EXPECT_NE(new_primary, old_primary) << "the member stepped down during the dump";
  EXPECT_EQ(manifest.total_documents(), 40000u);

  SandboxReplSet target({.name = "rs1", .members = 1});
  coordinator::RestoreRequest restore;
  restore.backup_id = manifest.id;
  restore.target_uri = target.uri();
  coordinator::run_restore(restore, *storage, progress);
  mongo::Client restored{mongo::Uri(target.uri())};
  ASSERT_TRUE(testing::eventually([&] { return dump::fingerprint(client) == dump::fingerprint(restored); }, std::chrono::seconds(30)));
}

}  // namespace
}  // namespace shardsafe

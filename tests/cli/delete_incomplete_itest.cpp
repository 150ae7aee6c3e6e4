// `shardsafe delete --incomplete` on a file:// storage and the temporary files of writers that
// died mid-write: the binary as an operator runs it, on backups it imported itself (no MongoDB
// needed), with temporary files placed and aged on disk.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "catalog/operations.h"
#include "cli/cli_runner.h"
#include "common/clock.h"
#include "mongo/bson.h"
#include "storage/open.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

namespace fs = std::filesystem;
using testing::last_json;
using testing::shardsafe;
using testing::TempDir;

// A temporary file as the file:// driver names it (".<name>.shardsafe-tmp-<rand>"), beside
// `key`, last written `age` ago.
fs::path temp_file(const fs::path& root, const std::string& key, const std::string& suffix, std::chrono::hours age) {
  const fs::path target = root / key;
  const fs::path temp = target.parent_path() / ("." + target.filename().string() + ".shardsafe-tmp-" + suffix);
  fs::create_directories(temp.parent_path());
  std::ofstream(temp) << "half of an object";
  fs::last_write_time(temp, fs::file_time_type::clock::now() - age);
  return temp;
}

class DeleteIncompleteTest : public ::testing::Test {
 protected:
  TempDir dir_;
  fs::path root_ = dir_.path() / "backups";
  std::string storage_ = "--storage file://" + root_.string();

  // A mongodump directory of one small collection, imported as a committed backup.
  std::string import_backup() {
    const fs::path dump = dir_.path() / "dump";
    fs::create_directories(dump / "app");
    std::ofstream data(dump / "app" / "people.bson", std::ios::binary);
    for (int i = 0; i < 10; ++i) {
      const auto doc = mongo::BsonBuilder().append("_id", i).build();
      data.write(reinterpret_cast<const char*>(doc.bytes().data()), static_cast<std::streamsize>(doc.bytes().size()));
    }
    data.close();
    const auto run = shardsafe("--json import --dump-dir " + dump.string() + " " + storage_);
    EXPECT_EQ(run.exit_code, 0) << run.out;
    return last_json(run.out).at("id");
  }

  nlohmann::json delete_incomplete() {
    const auto run = shardsafe("--json delete --incomplete " + storage_);
    EXPECT_EQ(run.exit_code, 0) << run.out;
    return last_json(run.out);
  }

  void expect_committed(const std::vector<std::string>& ids) {
    const auto listed = last_json(shardsafe("--json list " + storage_).out);
    ASSERT_EQ(listed.at("backups").size(), ids.size()) << listed.dump();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(listed.at("backups")[i].at("id"), ids[i]);
      const auto verify = shardsafe("verify --backup " + ids[i] + " " + storage_);
      EXPECT_EQ(verify.exit_code, 0) << verify.out;
    }
  }
};

// Stale temporary files go, wherever they are (beside a committed backup's objects, alone in a
// directory of slices); a fresh one, perhaps a live writer's, stays until it is stale too.
TEST_F(DeleteIncompleteTest, RemovesStaleTemporaryFilesAndKeepsFreshOnesAndCommittedBackups) {
  const std::string first = import_backup();
  const std::string second = import_backup();
  const auto beside_backup = temp_file(root_, "backups/" + first + "/manifest.json", "deadwriter01", std::chrono::hours(2));
  const auto alone = temp_file(root_, "oplog/rs0/1.0000000001-2.0000000001.bson", "deadwriter02", std::chrono::hours(30));
  const auto fresh = temp_file(root_, "backups/" + second + "/imported/app/people.bson.zst", "livewriter01", std::chrono::hours(0));

  const auto removed = delete_incomplete();
  EXPECT_EQ(removed.at("deleted_uploads"), 2) << removed.dump();
  EXPECT_TRUE(removed.at("deleted").empty()) << removed.dump();
  EXPECT_TRUE(removed.at("deleted_slices").empty()) << removed.dump();
  EXPECT_FALSE(fs::exists(beside_backup));
  EXPECT_FALSE(fs::exists(root_ / "oplog")) << "the directories the removal emptied are pruned";
  EXPECT_TRUE(fs::exists(fresh));
  expect_committed({first, second});

  // Once it is stale, the text output counts it.
  fs::last_write_time(fresh, fs::file_time_type::clock::now() - std::chrono::hours(2));
  const auto text = shardsafe("delete --incomplete " + storage_);
  EXPECT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find("deleted 1 abandoned uploads"), std::string::npos) << text.out;
  EXPECT_FALSE(fs::exists(fresh));
  expect_committed({first, second});
}

// A backup whose coordinator is alive (its record's heartbeat is fresh) keeps its temporary
// files, however long its writer has been silent.
TEST_F(DeleteIncompleteTest, KeepsTheTemporaryFilesOfARunningBackup) {
  const std::string running = "2026-12-07T10-00-00Z";
  auto storage = storage::open_storage("file://" + root_.string());
  catalog::save_operation(*storage, {.id = catalog::backup_operation_id(running), .kind = "backup", .backup_id = running,
                                     .state = "running", .heartbeat_ms = unix_ms()});
  storage::write_object(*storage, "backups/" + running + "/rs0/app/done.bson", "written");
  const auto silent = temp_file(root_, "backups/" + running + "/rs0/app/people.bson", "slowwriter01", std::chrono::hours(5));

  const auto removed = delete_incomplete();
  EXPECT_EQ(removed.at("deleted_uploads"), 0) << removed.dump();
  EXPECT_EQ(removed.at("in_progress"), nlohmann::json::array({running})) << removed.dump();
  EXPECT_TRUE(fs::exists(silent));
}

}  // namespace
}  // namespace shardsafe

// The conformance suite on the file:// driver, plus what only a filesystem can show.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "storage/fs/fs_storage.h"
#include "storage/conformance.h"
#include "storage/temp_dir.h"

namespace shardsafe::storage::testing {
namespace {

struct FsDriver {
  static std::unique_ptr<Storage> make() {
    // Each storage owns a fresh directory for the lifetime of the test process.
    static std::vector<std::unique_ptr<TempDir>> dirs;
    dirs.push_back(std::make_unique<TempDir>());
    return std::make_unique<FsStorage>(dirs.back()->path() / "root", 7);
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Fs, StorageConformance, FsDriver);

std::size_t files_under(const std::filesystem::path& dir) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) count += entry.is_regular_file();
  return count;
}

TEST(FsStorage, TempFileLivesBesideTargetAndVanishesOnAbort) {
  TempDir dir;
  FsStorage storage(dir.path());
  {
    auto writer = storage.create("x/y/object");
    writer->write(random_bytes(10));
    writer->finish();
    EXPECT_EQ(files_under(dir.path() / "x/y"), 1u) << "the temp file is in the target's directory";
    EXPECT_TRUE(list_all(storage, "").empty()) << "temp files are never listed";
  }
  EXPECT_EQ(files_under(dir.path()), 0u);
}

// A deleted backup leaves no tree of empty directories; the root and directories that still
// hold something stay.
TEST(FsStorage, RemovalPrunesTheDirectoriesItEmptied) {
  TempDir dir;
  const auto root = dir.path() / "root";
  FsStorage storage(root.string() + "/");  // a trailing slash, as file:///path/ gives
  put(storage, "backups/a/rs0/db/one", std::string("1"));
  put(storage, "backups/a/rs0/db/two", std::string("2"));
  put(storage, "backups/a/rs0/other/three", std::string("3"));
  put(storage, "backups/b/manifest.json", std::string("{}"));
  storage.remove({"backups/a/rs0/db/one"});
  EXPECT_TRUE(std::filesystem::is_directory(root / "backups/a/rs0/db")) << "still holds \"two\"";
  storage.remove({"backups/a/rs0/db/two", "backups/a/rs0/other/three"});
  EXPECT_FALSE(std::filesystem::exists(root / "backups/a"));
  EXPECT_TRUE(std::filesystem::is_directory(root / "backups/b"));
  storage.remove({"backups/b/manifest.json"});
  EXPECT_TRUE(std::filesystem::is_directory(root));
  EXPECT_TRUE(std::filesystem::is_empty(root));
  put(storage, "backups/c/again", std::string("4"));  // and directories come back on demand
  EXPECT_EQ(read_object(storage, "backups/c/again").size(), 1u);
}

// Two threads write into one directory and remove what they wrote, so each keeps pruning the
// directories the other is about to put a file in: every write and rename must still succeed.
TEST(FsStorage, WritesSurviveConcurrentPruning) {
  TempDir dir;
  FsStorage storage(dir.path());
  const auto churn = [&](const std::string& name) {
    for (int i = 0; i < 300; ++i) {
      put(storage, "deep/a/b/leaf/" + name, std::string("x"));
      storage.rename("deep/a/b/leaf/" + name, "deep/a/b/other/" + name);
      storage.remove({"deep/a/b/other/" + name});
    }
  };
  std::thread other(churn, "first");
  churn("second");
  other.join();
  EXPECT_TRUE(list_all(storage, "").empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "deep"));
}

// A writer whose process is killed mid-write (by SIGKILL in a child process), leaving its
// temporary file. Returns that file.
std::filesystem::path killed_writer(const std::filesystem::path& root, const std::string& key) {
  const pid_t child = ::fork();
  if (child == 0) {
    FsStorage storage(root);
    auto writer = storage.create(key);
    writer->write(random_bytes(1000));
    writer->finish();
    ::raise(SIGKILL);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  const auto directory = (root / key).parent_path();
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().filename().string().find(".shardsafe-tmp-") != std::string::npos) return entry.path();
  }
  ADD_FAILURE() << "the killed writer left no temporary file in " << directory;
  return {};
}

void age(const std::filesystem::path& path, std::chrono::hours by) {
  std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now() - by);
}

// Only the time since a temporary file's last write tells a dead writer's from a live one's:
// with an age of an hour, a killed writer's file is abandoned once unwritten for two, a live
// writer's is not, and committed objects never are, however old.
TEST(FsStorage, KilledWritersTempFilesAreAbandonedOnceUnwrittenForTheAge) {
  TempDir dir;
  const auto root = dir.path() / "root";
  FsStorage storage(root);
  const auto dead = killed_writer(root, "backups/dead/rs0/db/coll.bson");
  put(storage, "backups/kept/manifest.json", std::string("{}"));
  age(root / "backups/kept/manifest.json", std::chrono::hours(48));
  auto live = storage.create("backups/live/object");
  live->write(random_bytes(10));
  live->finish();

  EXPECT_TRUE(storage.list_abandoned_uploads(std::chrono::hours(1)).empty()) << "the dead writer wrote just now";
  EXPECT_EQ(storage.list_abandoned_uploads(std::chrono::seconds(0)).size(), 2u) << "the age alone decides";

  age(dead, std::chrono::hours(2));
  const auto abandoned = storage.list_abandoned_uploads(std::chrono::hours(1));
  ASSERT_EQ(abandoned.size(), 1u);
  EXPECT_EQ(abandoned[0].key, "backups/dead/rs0/db/coll.bson");
  EXPECT_EQ(abandoned[0].id, dead.filename().string());
  EXPECT_LT(abandoned[0].modified, std::chrono::system_clock::now() - std::chrono::minutes(119));

  storage.remove_abandoned_uploads(abandoned);
  EXPECT_FALSE(std::filesystem::exists(root / "backups/dead")) << "the directories it emptied are pruned";
  EXPECT_EQ(storage::read_object(storage, "backups/kept/manifest.json", 100), "{}");
  live->commit();
  EXPECT_EQ(read_object(storage, "backups/live/object").size(), 10u);
  EXPECT_TRUE(storage.list_abandoned_uploads(std::chrono::seconds(0)).empty());
}

// An upload names a file to remove: nothing but a temporary file of its key may be one.
TEST(FsStorage, RemovingAbandonedUploadsRemovesNothingElse) {
  TempDir dir;
  FsStorage storage(dir.path());
  put(storage, "a/b", std::string("committed"));
  for (const auto& id : {"b", ".b.shardsafe-tmp-", ".c.shardsafe-tmp-x", ".b.shardsafe-tmp-x/../b"}) {
    EXPECT_EQ(error_code_of([&] { storage.remove_abandoned_uploads({{"a/b", id, {}}}); }), ErrorCode::kInvalidArgument) << id;
  }
  EXPECT_EQ(error_code_of([&] { storage.remove_abandoned_uploads({{"../a/b", ".b.shardsafe-tmp-x", {}}}); }),
            ErrorCode::kInvalidArgument);
  storage.remove_abandoned_uploads({{"a/b", ".b.shardsafe-tmp-gone", {}}});  // already gone: no error
  EXPECT_EQ(storage::read_object(storage, "a/b", 100), "committed");
}

TEST(FsStorage, KeysStayInsideTheRoot) {
  TempDir dir;
  FsStorage storage(dir.path() / "root");
  EXPECT_EQ(error_code_of([&] { storage.create("../outside"); }), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "outside"));
}

TEST(FsStorage, UnwritableRootIsAStorageError) {
  TempDir dir;
  std::string message;
  {
    std::ofstream(dir.path() / "file") << "x";
  }
  EXPECT_EQ(error_code_of([&] { FsStorage storage(dir.path() / "file"); }, &message), ErrorCode::kStorage);
  EXPECT_NE(message.find("file"), std::string::npos);
}

}  // namespace
}  // namespace shardsafe::storage::testing

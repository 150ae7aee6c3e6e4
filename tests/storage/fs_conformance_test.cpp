// The conformance suite on the file:// driver, plus what only a filesystem can show.
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

// The conformance suite on the file:// driver, plus what only a filesystem can show.
#include <fstream>

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

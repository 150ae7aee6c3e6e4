// The file:// driver: objects are regular files under a root directory.
//
// Writes go to a temporary file in the object's own directory (".<name>.shardsafe-tmp-<rand>"),
// which is fsync'ed, renamed over the key and followed by an fsync of the directory, so a
// crash leaves either the old object or the new one, never a torn file. Temporary files are
// never listed; the abandoned uploads are those a killed writer left, found by their mtime.
// Directories are created on demand, and removed once removals empty them.
#pragma once

#include <filesystem>
#include <string>

#include "storage/storage.h"

namespace shardsafe::storage {

class FsStorage : public Storage {
 public:
  // `root` is created if missing. `list_page_size` bounds each list() page.
  explicit FsStorage(std::filesystem::path root, std::size_t list_page_size = 1000);

  Capabilities capabilities() const override;
  std::unique_ptr<Writer> create(const std::string& key) override;
  std::unique_ptr<Source> open(const std::string& key, std::uint64_t offset = 0,
                               std::optional<std::uint64_t> length = std::nullopt) override;
  std::optional<ObjectInfo> stat(const std::string& key) override;
  ListPage list(const std::string& prefix, const std::string& continuation = {}) override;
  void remove(const std::vector<std::string>& keys) override;
  void rename(const std::string& from, const std::string& to) override;
  std::vector<AbandonedUpload> list_abandoned_uploads(std::chrono::seconds min_age) override;
  void remove_abandoned_uploads(const std::vector<AbandonedUpload>& uploads) override;
  std::string describe() const override;

 private:
  std::filesystem::path path_of(const std::string& key) const;
  bool is_below_root(const std::filesystem::path& path) const;  // strictly: never the root itself
  // Removes `directory` and its ancestors below the root while they are empty, so that removals
  // and renames leave no tree of empty directories behind (a deleted backup's, for one).
  // rmdir() only removes an empty directory; a writer that loses the race to put a file in one
  // creates it again.
  void prune_empty_directories(std::filesystem::path directory) const;

  std::filesystem::path root_;
  std::size_t list_page_size_;
};

}  // namespace shardsafe::storage

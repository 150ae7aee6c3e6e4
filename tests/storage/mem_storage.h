// An in-memory Storage with the same semantics as the real drivers (it passes the
// conformance suite), for unit tests of the layers above: catalog, coordinator, verbs.
// Thread-safe. Objects live as long as the MemStorage. Test code only: link
// `storage_test_peers` and include "storage/mem_storage.h".
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "storage/storage.h"

namespace shardsafe::storage {

class MemStorage : public Storage {
 public:
  explicit MemStorage(std::size_t list_page_size = 1000);

  Capabilities capabilities() const override;
  std::unique_ptr<Writer> create(const std::string& key) override;
  std::unique_ptr<Source> open(const std::string& key, std::uint64_t offset = 0,
                               std::optional<std::uint64_t> length = std::nullopt) override;
  std::optional<ObjectInfo> stat(const std::string& key) override;
  ListPage list(const std::string& prefix, const std::string& continuation = {}) override;
  void remove(const std::vector<std::string>& keys) override;
  void rename(const std::string& from, const std::string& to) override;
  // None: a writer holds its bytes until commit, so none outlives its writer.
  std::vector<AbandonedUpload> list_abandoned_uploads(std::chrono::seconds min_age) override;
  void remove_abandoned_uploads(const std::vector<AbandonedUpload>& uploads) override;
  std::string describe() const override;

 private:
  struct Object {
    std::shared_ptr<const std::string> bytes;  // shared with open readers
    std::chrono::system_clock::time_point modified;
  };
  friend class MemWriter;
  void put(const std::string& key, std::string bytes);

  std::size_t list_page_size_;
  std::mutex mutex_;
  std::map<std::string, Object> objects_;  // GUARDED_BY(mutex_)
};

}  // namespace shardsafe::storage

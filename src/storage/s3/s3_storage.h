// The s3:// and oss:// driver: any S3-compatible object store (AWS S3, MinIO, Aliyun OSS).
//
// Objects live under `<prefix>/` in the bucket. A Writer buffers up to upload_part_size
// bytes: an object that fits is one PUT; a larger one becomes a multipart upload whose parts
// are uploaded by up to upload_concurrency tasks at once, across all writers of the storage:
// N writers hold at most upload_part_size x (upload_concurrency + N) bytes, plus up to
// upload_concurrency + 1 idle part buffers kept for reuse. A failed or abandoned upload is aborted,
// leaving no orphaned parts. Readers fetch download_chunk_size ranges: each the next one
// ahead of the caller, and all of them together up to download_concurrency more. Every
// request is retried under the configured RetryPolicy.
#pragma once

#include <memory>

#include "storage/s3/s3_client.h"
#include "storage/storage.h"

namespace shardsafe::storage::s3 {

class PartBuffers;
class TransferSlots;

class S3Storage : public Storage {
 public:
  explicit S3Storage(S3Config config);

  Capabilities capabilities() const override;
  std::unique_ptr<Writer> create(const std::string& key) override;
  std::unique_ptr<Source> open(const std::string& key, std::uint64_t offset = 0,
                               std::optional<std::uint64_t> length = std::nullopt) override;
  std::optional<ObjectInfo> stat(const std::string& key) override;
  ListPage list(const std::string& prefix, const std::string& continuation = {}) override;
  void remove(const std::vector<std::string>& keys) override;
  void rename(const std::string& from, const std::string& to) override;
  // None: a no-op, see s3_storage.cpp.
  std::vector<AbandonedUpload> list_abandoned_uploads(std::chrono::seconds min_age) override;
  void remove_abandoned_uploads(const std::vector<AbandonedUpload>& uploads) override;
  std::string describe() const override;

 private:
  std::string full_key(const std::string& key) const;
  std::string relative_key(const std::string& full) const;

  std::shared_ptr<S3Client> client_;
  std::shared_ptr<PartBuffers> buffers_;  // shared with writers and their part uploads
  std::shared_ptr<TransferSlots> upload_slots_;  // part uploads in flight, across all writers
  std::shared_ptr<TransferSlots> read_ahead_;    // chunks read ahead, across all readers
};

}  // namespace shardsafe::storage::s3

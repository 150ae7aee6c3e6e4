// The s3:// and oss:// driver: any S3-compatible object store (AWS S3, MinIO, Aliyun OSS).
//
// Objects live under `<prefix>/` in the bucket. A Writer buffers up to upload_part_size
// bytes: an object that fits is one PUT; a larger one becomes a multipart upload whose parts
// are uploaded by up to upload_concurrency tasks at once, so a Writer holds at most
// upload_part_size x (upload_concurrency + 1) bytes. A failed or abandoned upload is aborted,
// leaving no orphaned parts. Readers fetch download_chunk_size ranges, up to
// download_concurrency of them ahead of the caller. Every request is retried under the configured RetryPolicy.
#pragma once

#include <memory>

#include "storage/s3/s3_client.h"
#include "storage/storage.h"

namespace shardsafe::storage::s3 {

class PartBuffers;

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
  std::string describe() const override;

 private:
  std::string full_key(const std::string& key) const;
  std::string relative_key(const std::string& full) const;

  std::shared_ptr<S3Client> client_;
  std::shared_ptr<PartBuffers> buffers_;  // shared with writers and their part uploads
};

}  // namespace shardsafe::storage::s3

// S3 REST calls, signed with SigV4 and retried under the policy. One method per S3 action;
// keys are full object keys (the storage prefix already applied). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/s3/credentials.h"
#include "storage/s3/http.h"
#include "storage/s3/retry.h"
#include "storage/s3/sigv4.h"
#include "storage/storage.h"

namespace shardsafe::storage::s3 {

struct S3Config {
  std::string scheme = "s3";  // "s3" or "oss": only for describe()
  std::string bucket;
  std::string prefix;         // without leading or trailing '/'; may be empty
  std::string endpoint;       // "https://s3.us-east-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string region = "us-east-1";
  bool path_style = false;    // https://host/bucket/key instead of https://bucket.host/key
  CredentialSource credentials;
  // Multipart part; S3 wants >= 5 MiB. 8 MiB (the AWS CLI's default) keeps memory low with
  // several writers, and a 512 MiB stream part (pipeline.h) is 64 of them, far from 10,000.
  std::size_t upload_part_size = 8u << 20;
  int upload_concurrency = 4;                  // parts in flight, across all writers of a storage
  std::size_t download_chunk_size = 8u << 20;  // bytes per ranged GET
  int download_concurrency = 4;                // chunks read ahead, across all readers of a storage
  int list_page_size = 1000;                   // ListObjectsV2 max-keys
  // The payload's SHA-256 in each signature, so the server rejects a body changed on the way.
  // Over HTTPS TLS already does that, and the AWS SDKs send UNSIGNED-PAYLOAD there to spare
  // hashing every byte once more before the request can start: the default follows them,
  // except for OSS, which requires the hash of every PUT and POST body.
  bool sign_payload = true;
  std::string ca_file;  // PEM bundle for an endpoint whose certificate a private CA signed
  // Sent with every object written (PUT, CreateMultipartUpload, and CopyObject, which would
  // otherwise store the copy as STANDARD with the bucket's default encryption).
  std::string storage_class;   // x-amz-storage-class, e.g. STANDARD_IA; empty: the bucket's default
  std::string sse;             // x-amz-server-side-encryption: AES256 or aws:kms; empty: the bucket's
  std::string sse_kms_key_id;  // with sse=aws:kms: the KMS key; empty: the account's default key
  RetryPolicy retry;
  HttpTimeouts timeouts;
};

struct ObjectHead {
  std::uint64_t size = 0;
  std::string etag;
  std::chrono::system_clock::time_point modified;
  std::string upload_token;  // x-amz-meta-shardsafe-upload: the MultipartUpload that made it
};

// A multipart upload in progress. Its random `token` also goes into the object's metadata, so
// that a completion whose answer was lost can be recognised: the server may well refuse to
// complete the same upload twice.
struct MultipartUpload {
  std::string id;
  std::string token;
};

struct ListResult {
  std::vector<ObjectInfo> objects;  // full keys
  std::string next_token;
};

class S3Client {
 public:
  explicit S3Client(S3Config config);
  const S3Config& config() const { return config_; }

  // `body_sha256`: the body's SHA-256 (hex) when the caller has it already; else, when the
  // payload is signed, it is computed here before the request starts.
  void put_object(const std::string& key, std::span<const std::uint8_t> body, const std::string& body_sha256 = "");
  std::optional<ObjectHead> head_object(const std::string& key);
  // Bytes [offset, offset + length) of the object; if_match pins the version being read.
  std::string get_range(const std::string& key, std::uint64_t offset, std::uint64_t length,
                        const std::string& if_match);
  ListResult list_objects(const std::string& prefix, const std::string& token);
  // REQUIRES: keys.size() <= 1000.
  void delete_objects(const std::vector<std::string>& keys);
  void copy_object(const std::string& from, const std::string& to);

  MultipartUpload create_multipart_upload(const std::string& key);
  // Returns the part's ETag.
  std::string upload_part(const std::string& key, const std::string& upload_id, int part_number,
                          std::span<const std::uint8_t> body, const std::string& body_sha256 = "");
  // Retried like every call; an attempt that fails after an earlier one may have completed
  // the upload checks the object for the upload's token first.
  void complete_multipart_upload(const std::string& key, const MultipartUpload& upload,
                                 const std::vector<std::string>& etags);
  void abort_multipart_upload(const std::string& key, const std::string& upload_id);

 private:
  struct Call {
    std::string method;
    std::string key;  // empty for bucket-level calls
    Parameters query;
    Parameters headers;
    std::span<const std::uint8_t> body;
    std::size_t expected_response_size = 0;
    std::string body_sha256;  // hex, when known; empty: computed if the payload is signed
  };
  // Signs and sends one attempt; maps retryable statuses to TransientError and the rest of
  // the errors to Error. Returns 2xx (and, when `accept_404`, 404) responses.
  HttpResponse send(const Call& call, const std::string& what, bool accept_404 = false);
  // send() under the retry policy.
  HttpResponse call(const Call& call, const std::string& what, bool accept_404 = false);
  // The storage class and encryption headers of a call that creates an object.
  Parameters object_headers() const;

  S3Config config_;
  std::string host_;    // Host header value
  std::string origin_;  // scheme://host[:port]
  HttpClient http_;
};

}  // namespace shardsafe::storage::s3

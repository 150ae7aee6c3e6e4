// s3rver (npm) on a free loopback port, started by tests/node/s3rver_launcher.mjs and stopped
// (its stdin closed, then killed if it lingers) when the object is destroyed.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "storage/temp_dir.h"

namespace shardsafe::storage::testing {

// s3rver's built-in account.
inline constexpr const char* kS3rverAccessKey = "S3RVER";
inline constexpr const char* kS3rverSecretKey = "S3RVER";

// A self-signed certificate for 127.0.0.1, localhost and *.s3.localhost, made with the
// openssl command in a temporary directory: the CA file a client must be given to trust it.
class SelfSignedCertificate {
 public:
  SelfSignedCertificate();  // throws std::runtime_error if openssl fails
  std::string certificate_file() const { return (dir_.path() / "cert.pem").string(); }
  std::string key_file() const { return (dir_.path() / "key.pem").string(); }

 private:
  TempDir dir_;
};

class S3rver {
 public:
  // Starts s3rver serving `bucket`, over HTTPS with `tls`; throws std::runtime_error if it is
  // not up within 30 s.
  explicit S3rver(const std::string& bucket, const SelfSignedCertificate* tls = nullptr);
  ~S3rver();
  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_); }
  const std::string& bucket() const { return bucket_; }
  // An s3:// URL for `prefix` in the bucket, path-style, with s3rver's credentials.
  std::string url(const std::string& prefix, const std::string& extra_parameters = "") const;

 private:
  TempDir data_;
  std::string bucket_;
  std::string scheme_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int port_ = 0;
};

// The source tree's root (tests find tests/node there).
std::string source_dir();

}  // namespace shardsafe::storage::testing

// Where S3 credentials come from, first found wins, as with the AWS CLI (what is named for this
// storage beats the environment):
//   1. the `access_key` / `secret_key` / `session_token` settings (URL or config file);
//   2. the `profile` setting's section of the shared credentials file
//      (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials), which must then exist;
//   3. the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN environment variables;
//   4. the shared file's AWS_PROFILE section, else its "default";
//   5. the machine's role: the container credentials endpoint (ECS, EKS Pod Identity:
//      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN
//      or _TOKEN_FILE), else the EC2 instance metadata service (IMDSv2 at
//      AWS_EC2_METADATA_SERVICE_ENDPOINT, else 169.254.169.254) unless
//      AWS_EC2_METADATA_DISABLED=true. Role credentials expire and are fetched again.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "storage/s3/http.h"
#include "storage/s3/sigv4.h"

namespace shardsafe::storage::s3 {

using Settings = std::map<std::string, std::string>;

// Sources 1 to 4, or nullopt. Throws Error(kInvalidArgument) when the `profile` setting names
// a section the shared file does not have.
std::optional<Credentials> find_credentials(const Settings& settings);

// The [profile] section of an AWS shared credentials file, or empty credentials when the file
// or the section does not exist.
Credentials read_shared_credentials(const std::string& path, const std::string& profile);

// Temporary credentials of the machine's role (source 5), fetched again 5 minutes before they
// expire. Thread-safe.
class RoleCredentials {
 public:
  // The role's endpoint per the environment, with its first credentials; nullptr when the
  // environment names no container endpoint and the instance metadata service is disabled or
  // does not answer (a machine outside AWS). Throws Error when an endpoint answers wrongly.
  // `why_not` says why there are none, for the caller's message.
  static std::shared_ptr<RoleCredentials> discover(std::string* why_not);

  // Valid credentials. When fetching new ones fails, the old ones are kept while they last
  // (with a warning); after that it throws TransientError, so the S3 call is retried.
  Credentials current();

 private:
  struct Endpoint {
    std::string url;            // the credentials document, or the IMDS root
    std::string authorization;  // container endpoints: the Authorization header value
    bool imds = false;
  };
  explicit RoleCredentials(Endpoint endpoint);
  void fetch();  // REQUIRES: mutex_ held, or construction
  std::string imds_token();
  std::string get(const std::string& url, const Parameters& headers);

  Endpoint endpoint_;
  HttpClient http_;
  std::mutex mutex_;
  Credentials credentials_;                          // GUARDED_BY(mutex_)
  std::chrono::system_clock::time_point expires_;    // GUARDED_BY(mutex_)
};

// Where one storage's requests get their credentials: fixed ones, or the role's current ones.
class CredentialSource {
 public:
  CredentialSource() = default;
  explicit CredentialSource(Credentials fixed) : fixed_(std::move(fixed)) {}
  explicit CredentialSource(std::shared_ptr<RoleCredentials> role) : role_(std::move(role)) {}
  Credentials current() const { return role_ ? role_->current() : fixed_; }

 private:
  Credentials fixed_;
  std::shared_ptr<RoleCredentials> role_;
};

// Sources 1 to 5 in order. Throws Error(kInvalidArgument) naming every source tried (never a
// value) when none has credentials.
CredentialSource resolve_credentials(const Settings& settings);

}  // namespace shardsafe::storage::s3

// The two endpoints that hand an AWS machine its role's credentials, as AWS documents them, on
// loopback: the EC2 instance metadata service (IMDSv2: PUT /latest/api/token, then
// GET /latest/meta-data/iam/security-credentials/ and .../<role>, each with the token) and a
// container credentials endpoint (GET /container-credentials with an Authorization header).
// Both hand out s3rver's keys as temporary credentials that expire `lifetime` after issue,
// with session tokens "session-1", "session-2"... in issue order.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace shardsafe::storage::testing {

class RoleCredentialsService {
 public:
  static constexpr const char* kRole = "shardsafe-backup";
  static constexpr const char* kContainerAuthorization = "container-secret";

  explicit RoleCredentialsService(std::chrono::seconds lifetime);
  ~RoleCredentialsService();
  RoleCredentialsService(const RoleCredentialsService&) = delete;
  RoleCredentialsService& operator=(const RoleCredentialsService&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int credentials_issued() const { return issued_; }
  // Requests refused for lacking a valid IMDSv2 token or the container's Authorization.
  int refused() const { return refused_; }

 private:
  void issue(httplib::Response& response);

  std::chrono::seconds lifetime_;
  httplib::Server server_;
  int port_ = 0;
  std::atomic<int> issued_{0};
  std::atomic<int> refused_{0};
  std::thread thread_;
};

}  // namespace shardsafe::storage::testing

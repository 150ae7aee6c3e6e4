#include "storage/role_credentials_service.h"

#include <stdexcept>

#include "common/clock.h"
#include "storage/s3rver.h"

namespace shardsafe::storage::testing {
namespace {

constexpr const char* kImdsToken = "imds-session-token";

}  // namespace

RoleCredentialsService::RoleCredentialsService(std::chrono::seconds lifetime) : lifetime_(lifetime) {
  server_.Put("/latest/api/token", [this](const httplib::Request& request, httplib::Response& response) {
    if (!request.has_header("X-aws-ec2-metadata-token-ttl-seconds")) {
      ++refused_;
      response.status = 400;
      return;
    }
    response.set_content(kImdsToken, "text/plain");
  });
  // IMDSv2 refuses metadata requests without a valid token (401).
  const auto with_token = [this](const httplib::Request& request, httplib::Response& response) {
    if (request.get_header_value("X-aws-ec2-metadata-token") != kImdsToken) {
      ++refused_;
      response.status = 401;
      return false;
    }
    return true;
  };
  server_.Get("/latest/meta-data/iam/security-credentials/",
              [with_token](const httplib::Request& request, httplib::Response& response) {
                if (with_token(request, response)) response.set_content(std::string(kRole) + "\n", "text/plain");
              });
  server_.Get(std::string("/latest/meta-data/iam/security-credentials/") + kRole,
              [this, with_token](const httplib::Request& request, httplib::Response& response) {
                if (with_token(request, response)) issue(response);
              });
  server_.Get("/container-credentials", [this](const httplib::Request& request, httplib::Response& response) {
    if (request.get_header_value("Authorization") != kContainerAuthorization) {
      ++refused_;
      response.status = 403;
      return;
    }
    issue(response);
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("the role credentials service could not bind a port");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
}

RoleCredentialsService::~RoleCredentialsService() {
  server_.stop();
  thread_.join();
}

void RoleCredentialsService::issue(httplib::Response& response) {
  const int number = ++issued_;
  const auto expires = std::chrono::system_clock::now() + lifetime_;
  response.set_content(std::string("{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"") + kS3rverAccessKey +
                           "\",\"SecretAccessKey\":\"" + kS3rverSecretKey + "\",\"Token\":\"session-" +
                           std::to_string(number) + "\",\"Expiration\":\"" + iso8601(expires) + "\"}",
                       "application/json");
}

}  // namespace shardsafe::storage::testing

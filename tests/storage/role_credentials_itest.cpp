// S3 credentials from the machine's role, as on EC2 (instance metadata, IMDSv2) or in a
// container (ECS, EKS Pod Identity): fetched from the documented endpoints (emulated on
// loopback), sent as temporary credentials with their session token, and renewed before they
// expire. Requests go to s3rver through the relay, which shows the token each one carried.
#include <algorithm>
#include <fstream>

#include "storage/aws_environment.h"
#include "storage/conformance.h"
#include "storage/fault_proxy.h"
#include "storage/open.h"
#include "storage/role_credentials_service.h"
#include "storage/s3rver.h"

namespace shardsafe::storage::testing {
namespace {

class RoleCredentials : public AwsEnvironment {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<S3rver>("roles"); }
  static void TearDownTestSuite() { server_.reset(); }

  // The storage with no credentials of its own.
  std::unique_ptr<Storage> storage() {
    const auto name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    return open_storage("s3://roles/" + std::string(name) + "?endpoint=" + proxy_.endpoint() + "&path_style=true");
  }

  // The session tokens the S3 requests carried, in order.
  std::vector<std::string> session_tokens() {
    std::vector<std::string> tokens;
    for (const auto& head : proxy_.request_heads("", "")) {
      const auto start = head.find("x-amz-security-token: ");
      if (start == std::string::npos) continue;
      const auto value = start + std::string("x-amz-security-token: ").size();
      tokens.push_back(head.substr(value, head.find('\r', value) - value));
    }
    return tokens;
  }

  static std::unique_ptr<S3rver> server_;
  FaultProxy proxy_{server_->port()};
};

std::unique_ptr<S3rver> RoleCredentials::server_;

TEST_F(RoleCredentials, InstanceRoleCredentialsSignEveryRequest) {
  RoleCredentialsService metadata(std::chrono::hours(6));
  ::unsetenv("AWS_EC2_METADATA_DISABLED");
  ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata.endpoint().c_str(), 1);
  auto s3 = storage();
  put(*s3, "object", random_bytes(1000));
  EXPECT_EQ(read_object(*s3, "object"), random_bytes(1000));
  EXPECT_EQ(keys_of(list_all(*s3, "")), std::vector<std::string>{"object"});

  EXPECT_EQ(metadata.credentials_issued(), 1) << "six-hour credentials are fetched once";
  EXPECT_EQ(metadata.refused(), 0) << "every metadata request carried the IMDSv2 token";
  const auto tokens = session_tokens();
  ASSERT_GE(tokens.size(), 3u);
  EXPECT_TRUE(std::all_of(tokens.begin(), tokens.end(), [](const auto& token) { return token == "session-1"; }));
}

TEST_F(RoleCredentials, CredentialsAboutToExpireAreRenewed) {
  // Within five minutes of expiry from the start, so every request renews them.
  RoleCredentialsService metadata(std::chrono::minutes(2));
  ::unsetenv("AWS_EC2_METADATA_DISABLED");
  ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", metadata.endpoint().c_str(), 1);
  auto s3 = storage();
  put(*s3, "a", std::string("a"));
  put(*s3, "b", std::string("b"));
  const auto tokens = session_tokens();
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_NE(tokens[0], tokens[1]);
  EXPECT_EQ(metadata.credentials_issued(), 3);  // at open, then once per request
}

TEST_F(RoleCredentials, ContainerEndpointComesBeforeInstanceMetadata) {
  RoleCredentialsService endpoints(std::chrono::hours(1));
  ::unsetenv("AWS_EC2_METADATA_DISABLED");
  ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);  // never asked
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (endpoints.endpoint() + "/container-credentials").c_str(), 1);
  const auto token_file = dir_.path() / "pod-identity-token";
  std::ofstream(token_file) << RoleCredentialsService::kContainerAuthorization << "\n";
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file.c_str(), 1);
  auto s3 = storage();
  put(*s3, "object", std::string("x"));
  EXPECT_EQ(endpoints.credentials_issued(), 1);
  EXPECT_EQ(endpoints.refused(), 0) << "the Authorization header came from the token file";
  EXPECT_EQ(session_tokens(), std::vector<std::string>{"session-1"});
}

TEST_F(RoleCredentials, WrongContainerAuthorizationIsAClearError) {
  RoleCredentialsService endpoints(std::chrono::hours(1));
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (endpoints.endpoint() + "/container-credentials").c_str(), 1);
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "not-the-token", 1);
  std::string message;
  EXPECT_EQ(error_code_of([&] { storage(); }, &message), ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("/container-credentials: HTTP 403"), std::string::npos) << message;
  EXPECT_EQ(message.find("not-the-token"), std::string::npos) << message;
}

TEST_F(RoleCredentials, NoRoleAnywhereNamesEverySourceTried) {
  ::unsetenv("AWS_EC2_METADATA_DISABLED");
  int closed_port = 0;
  {
    FaultProxy unused(server_->port());  // a port that was free and is closed again
    closed_port = unused.port();
  }
  ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ("http://127.0.0.1:" + std::to_string(closed_port)).c_str(), 1);
  std::string message;
  EXPECT_EQ(error_code_of([&] { storage(); }, &message), ErrorCode::kInvalidArgument);
  for (const auto* source : {"access_key", "AWS_ACCESS_KEY_ID", "profile", "instance or container role",
                             "/latest/api/token"}) {
    EXPECT_NE(message.find(source), std::string::npos) << source << " in: " << message;
  }
}

}  // namespace
}  // namespace shardsafe::storage::testing

// Retries through a fault-injecting proxy in front of s3rver: transient faults are retried
// and succeed, each retry is logged without secrets, and exhausted retries fail naming the
// object.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "storage/conformance.h"
#include "storage/fault_proxy.h"
#include "storage/open.h"
#include "storage/s3rver.h"

namespace shardsafe::storage::testing {
namespace {

class Retries : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new S3rver("retries"); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    proxy_ = std::make_unique<FaultProxy>(server_->port());
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("retries", sink));
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  // Through the proxy: few, fast retries and a 1 s stall timeout keep the tests quick.
  std::unique_ptr<Storage> storage(int max_attempts = 4) {
    const auto name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    return open_storage("s3://retries/" + std::string(name) + "?endpoint=" + proxy_->endpoint() +
                        "&path_style=true&access_key=S3RVER&secret_key=S3RVER&retry_base_ms=10&stall_timeout_s=1"
                        "&upload_part_size=5242880&max_attempts=" +
                        std::to_string(max_attempts));
  }

  static S3rver* server_;
  std::unique_ptr<FaultProxy> proxy_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> previous_;
};

S3rver* Retries::server_ = nullptr;

TEST_F(Retries, InternalErrorsAndSlowDownAreRetried) {
  auto s3 = storage();
  proxy_->add({Fault::kInternalError, "PUT", "", 2});
  proxy_->add({Fault::kSlowDown, "HEAD", "", 1});
  put(*s3, "object", std::string("payload"));
  EXPECT_EQ(read_object(*s3, "object").size(), 7u);
  EXPECT_EQ(proxy_->faults_injected(), 3);
  const auto log = log_.str();
  EXPECT_NE(log.find("s3 PUT \"InternalErrorsAndSlowDownAreRetried/object\" failed (attempt 1/4), retrying"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("SlowDown"), std::string::npos) << log;
  EXPECT_EQ(log.find("S3RVER"), std::string::npos) << "a secret or key id leaked into the log: " << log;
  EXPECT_EQ(log.find("Signature"), std::string::npos) << log;
  EXPECT_EQ(log.find("Authorization"), std::string::npos) << log;
}

TEST_F(Retries, DroppedConnectionsAreRetried) {
  auto s3 = storage();
  put(*s3, "object", random_bytes(100'000));
  proxy_->add({Fault::kDrop, "GET", "", 2});
  EXPECT_EQ(read_object(*s3, "object"), random_bytes(100'000));
  EXPECT_EQ(proxy_->faults_injected(), 2);
}

TEST_F(Retries, StalledResponsesTimeOutAndAreRetried) {
  auto s3 = storage();
  put(*s3, "object", std::string("x"));
  proxy_->add({Fault::kStall, "HEAD", "", 1});
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(s3->stat("object")->size, 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
  EXPECT_NE(log_.str().find("s3 HEAD"), std::string::npos) << log_.str();
}

TEST_F(Retries, TruncatedBodiesAreRetried) {
  auto s3 = storage();
  const auto bytes = random_bytes(3'000'000, 4);
  put(*s3, "object", bytes);
  proxy_->add({Fault::kTruncateBody, "GET", "", 2});
  EXPECT_EQ(read_object(*s3, "object"), bytes);
  EXPECT_EQ(proxy_->faults_injected(), 2);
}

TEST_F(Retries, MultipartPartsAreRetried) {
  auto s3 = storage();
  const auto bytes = random_bytes(12 * 1024 * 1024, 6);
  proxy_->add({Fault::kInternalError, "PUT", "partNumber=2", 1});
  proxy_->add({Fault::kDrop, "PUT", "partNumber=3", 1});
  put(*s3, "big", bytes);
  EXPECT_EQ(read_object(*s3, "big"), bytes);
  EXPECT_EQ(proxy_->faults_injected(), 2);
}

// The server completed the upload but its answer was lost on the way: the retried
// CompleteMultipartUpload finds no such upload any more. The object is there, whole, so the
// commit must succeed.
TEST_F(Retries, CompletionWhoseAnswerWasLostIsConfirmed) {
  auto s3 = storage();
  const auto bytes = random_bytes(11 * 1024 * 1024, 8);
  proxy_->add({Fault::kTruncateBody, "POST", "uploadId=", 1});
  put(*s3, "completed", bytes);
  EXPECT_EQ(proxy_->faults_injected(), 1);
  EXPECT_EQ(read_object(*s3, "completed"), bytes);

  // Another upload to the same key that never completes is not mistaken for the one before.
  proxy_->add({Fault::kInternalError, "POST", "uploadId=", -1});
  std::string message;
  EXPECT_EQ(error_code_of([&] { put(*s3, "completed", random_bytes(11 * 1024 * 1024, 9)); }, &message),
            ErrorCode::kStorage);
  EXPECT_NE(message.find("CompleteMultipartUpload"), std::string::npos) << message;
  EXPECT_EQ(read_object(*s3, "completed"), bytes);
}

TEST_F(Retries, ExhaustedRetriesFailNamingTheObject) {
  auto s3 = storage(3);
  proxy_->add({Fault::kInternalError, "PUT", "", -1});
  std::string message;
  EXPECT_EQ(error_code_of([&] { put(*s3, "doomed/object", std::string("x")); }, &message), ErrorCode::kStorage);
  EXPECT_NE(message.find("doomed/object"), std::string::npos) << message;
  EXPECT_NE(message.find("after 3 attempts"), std::string::npos) << message;
  EXPECT_EQ(proxy_->faults_injected(), 3);
}

TEST_F(Retries, FailedMultipartUploadIsAbortedAndLeavesNothing) {
  auto s3 = storage(2);
  proxy_->add({Fault::kInternalError, "PUT", "partNumber=2", -1});
  std::string message;
  EXPECT_NE(error_code_of([&] { put(*s3, "big", random_bytes(11 * 1024 * 1024)); }, &message), ErrorCode::kInternal);
  EXPECT_NE(message.find("big"), std::string::npos) << message;
  // s3rver answers AbortMultipartUpload with 405 (not implemented), so the proof is the request.
  EXPECT_EQ(proxy_->requests_seen("DELETE", "uploadId="), 1);
  EXPECT_FALSE(s3->stat("big").has_value());
  EXPECT_TRUE(list_all(*s3, "").empty());
}

TEST_F(Retries, UnreachableEndpointIsAConnectionErrorNamingTheObject) {
  int port = 0;
  {
    FaultProxy unused(server_->port());  // a port that was free and is closed again
    port = unused.port();
  }
  auto s3 = open_storage("s3://retries/p?endpoint=http://127.0.0.1:" + std::to_string(port) +
                         "&path_style=true&access_key=S3RVER&secret_key=S3RVER&retry_base_ms=1&max_attempts=3");
  std::string message;
  EXPECT_EQ(error_code_of([&] { s3->stat("gone/object"); }, &message), ErrorCode::kConnection);
  EXPECT_NE(message.find("p/gone/object"), std::string::npos) << message;
  EXPECT_NE(message.find("after 3 attempts"), std::string::npos) << message;
}

TEST_F(Retries, PermanentErrorsAreNotRetried) {
  auto s3 = storage();
  proxy_->add({Fault::kAccessDenied, "PUT", "", -1});
  std::string message;
  EXPECT_EQ(error_code_of([&] { put(*s3, "k", std::string("x")); }, &message), ErrorCode::kStorage);
  EXPECT_NE(message.find("AccessDenied"), std::string::npos) << message;
  EXPECT_EQ(proxy_->faults_injected(), 1);
  EXPECT_EQ(log_.str().find("retrying"), std::string::npos) << log_.str();
}

}  // namespace
}  // namespace shardsafe::storage::testing

// What the S3 driver puts on the wire, as seen by a relay in front of s3rver: the storage
// class and server-side encryption headers go with every request that creates an object and
// with no other, and the payload hash is signed or UNSIGNED-PAYLOAD as configured.
#include <algorithm>

#include "storage/conformance.h"
#include "storage/fault_proxy.h"
#include "storage/hash.h"
#include "storage/open.h"
#include "storage/s3rver.h"

namespace shardsafe::storage::testing {
namespace {

class S3Requests : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<S3rver>("wire"); }
  static void TearDownTestSuite() { server_.reset(); }

  std::unique_ptr<Storage> storage(const std::string& parameters) {
    const auto name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    return open_storage("s3://wire/" + std::string(name) + "?endpoint=" + proxy_.endpoint() +
                        "&path_style=true&access_key=S3RVER&secret_key=S3RVER&upload_part_size=5242880" + parameters);
  }

  // Header blocks of the requests with this method and target, lower-cased.
  std::vector<std::string> heads(const std::string& method, const std::string& target_contains) {
    auto found = proxy_.request_heads(method, target_contains);
    for (auto& head : found) std::transform(head.begin(), head.end(), head.begin(), ::tolower);
    return found;
  }

  static std::unique_ptr<S3rver> server_;
  FaultProxy proxy_{server_->port()};
};

std::unique_ptr<S3rver> S3Requests::server_;

bool has_line(const std::string& head, const std::string& line) {
  return head.find("\r\n" + line + "\r\n") != std::string::npos;
}

TEST_F(S3Requests, EncryptionAndStorageClassGoWithEveryObjectCreatedAndOnlyThere) {
  auto s3 = storage("&storage_class=STANDARD_IA&sse=aws:kms&sse_kms_key_id=alias/backups");
  put(*s3, "small", random_bytes(1000));
  put(*s3, "large", random_bytes(11 << 20));  // three parts
  s3->rename("small", "renamed");

  const std::vector<std::string> expected{"x-amz-storage-class: standard_ia", "x-amz-server-side-encryption: aws:kms",
                                          "x-amz-server-side-encryption-aws-kms-key-id: alias/backups"};
  const auto single_put = heads("PUT", "/small");
  const auto create_multipart = heads("POST", "/large?uploads");
  const auto copy = heads("PUT", "/renamed");
  ASSERT_EQ(single_put.size(), 1u);
  ASSERT_EQ(create_multipart.size(), 1u);
  ASSERT_EQ(copy.size(), 1u);
  for (const auto& line : expected) {
    EXPECT_TRUE(has_line(single_put[0], line)) << line << "\n" << single_put[0];
    EXPECT_TRUE(has_line(create_multipart[0], line)) << line << "\n" << create_multipart[0];
    EXPECT_TRUE(has_line(copy[0], line)) << line << "\n" << copy[0];
  }
  // S3 refuses encryption headers on UploadPart: the upload's own settings apply to its parts.
  const auto parts = heads("PUT", "/large?partNumber=");
  ASSERT_EQ(parts.size(), 3u);
  for (const auto& part : parts) EXPECT_EQ(part.find("x-amz-s"), std::string::npos) << part;
  EXPECT_EQ(read_object(*s3, "renamed").size(), 1000u);
}

TEST_F(S3Requests, PayloadHashIsSignedOverHttpUnlessTurnedOff) {
  const auto body = random_bytes(1000, 7);
  put(*storage(""), "signed", body);
  put(*storage("&sign_payload=false"), "unsigned", body);
  const auto signed_put = heads("PUT", "/signed");
  const auto unsigned_put = heads("PUT", "/unsigned");
  ASSERT_EQ(signed_put.size(), 1u);
  ASSERT_EQ(unsigned_put.size(), 1u);
  EXPECT_TRUE(has_line(signed_put[0], "x-amz-content-sha256: " + sha256_hex(body))) << signed_put[0];
  EXPECT_TRUE(has_line(unsigned_put[0], "x-amz-content-sha256: unsigned-payload")) << unsigned_put[0];
}

// The hashes are computed while the part buffers fill (on another thread): each part must
// still be signed with the SHA-256 of exactly its own bytes, as S3 checks and s3rver does not.
TEST_F(S3Requests, EveryPartIsSignedWithItsOwnHash) {
  const auto body = random_bytes((11 << 20) + 123, 9);
  put(*storage(""), "parts", body);  // written in slices of growing, uneven sizes
  const std::size_t part_size = 5 << 20;
  for (std::size_t number = 1; number <= 3; ++number) {  // parts go up in parallel: found by number
    const auto part = heads("PUT", "/parts?partNumber=" + std::to_string(number) + "&");
    ASSERT_EQ(part.size(), 1u) << "part " << number;
    const auto offset = (number - 1) * part_size;
    const auto slice = std::span(body).subspan(offset, std::min(part_size, body.size() - offset));
    EXPECT_TRUE(has_line(part[0], "x-amz-content-sha256: " + sha256_hex(slice))) << "part " << number << "\n" << part[0];
  }
}

TEST_F(S3Requests, ServerRefusingTheStorageClassIsAnErrorNamingTheObject) {
  auto s3 = storage("&storage_class=NO_SUCH_CLASS");
  try {
    put(*s3, "refused", std::string("x"));
    FAIL() << "the PUT succeeded";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("\"ServerRefusingTheStorageClassIsAnErrorNamingTheObject/refused\""),
              std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("InvalidStorageClass"), std::string::npos) << error.what();
  }
  EXPECT_FALSE(s3->stat("refused"));
}

}  // namespace
}  // namespace shardsafe::storage::testing

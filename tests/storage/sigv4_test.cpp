// SigV4 against the example signatures of AWS's S3 API reference ("Signature Calculations
// for the Authorization Header: Transferring Payload in a Single Chunk"), whose examples use
// the documentation credentials below, 20130524T000000Z and us-east-1.
#include "storage/s3/sigv4.h"

#include <gtest/gtest.h>

#include "storage/hash.h"

namespace shardsafe::storage::s3 {
namespace {

const Credentials kExampleCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* kDate = "20130524T000000Z";
constexpr const char* kHost = "examplebucket.s3.amazonaws.com";

std::string signature_of(const std::string& authorization) {
  return authorization.substr(authorization.find("Signature=") + 10);
}

TEST(SigV4, GetObjectExample) {
  SignableRequest request{"GET", "/test.txt", {},
                          {{"Host", kHost}, {"Range", "bytes=0-9"},
                           {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}, {"x-amz-date", kDate}},
                          std::string(kEmptyPayloadSha256)};
  // The intermediate values the documentation prints.
  EXPECT_EQ(sha256_hex(as_bytes(canonical_request(request))),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(authorization(request, kExampleCredentials, kDate, "us-east-1"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, PutObjectExample) {
  const auto payload = sha256_hex(as_bytes("Welcome to Amazon S3."));
  EXPECT_EQ(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SignableRequest request{"PUT", "/" + uri_encode("test$file.text", true), {},
                          {{"Host", kHost}, {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                           {"x-amz-content-sha256", payload}, {"x-amz-date", kDate},
                           {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                          payload};
  EXPECT_EQ(request.path, "/test%24file.text");
  EXPECT_EQ(string_to_sign(request, kDate, "us-east-1"),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(signature_of(authorization(request, kExampleCredentials, kDate, "us-east-1")),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, GetBucketLifecycleExample) {
  SignableRequest request{"GET", "/", {{"lifecycle", ""}},
                          {{"Host", kHost}, {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
                           {"x-amz-date", kDate}},
                          std::string(kEmptyPayloadSha256)};
  EXPECT_EQ(signature_of(authorization(request, kExampleCredentials, kDate, "us-east-1")),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, ListObjectsExampleSortsQueryParameters) {
  SignableRequest request{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
                          {{"Host", kHost}, {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
                           {"x-amz-date", kDate}},
                          std::string(kEmptyPayloadSha256)};
  EXPECT_EQ(canonical_query(request.query), "max-keys=2&prefix=J");
  EXPECT_EQ(signature_of(authorization(request, kExampleCredentials, kDate, "us-east-1")),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, SessionTokenAndRegionChangeTheSignature) {
  SignableRequest request{"GET", "/test.txt", {},
                          {{"Host", kHost}, {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
                           {"x-amz-date", kDate}},
                          std::string(kEmptyPayloadSha256)};
  const auto plain = authorization(request, kExampleCredentials, kDate, "us-east-1");
  EXPECT_NE(authorization(request, kExampleCredentials, kDate, "eu-west-1"), plain);
  request.headers.emplace_back("x-amz-security-token", "token");
  const auto with_token = authorization(request, kExampleCredentials, kDate, "us-east-1");
  EXPECT_NE(with_token, plain);
  EXPECT_NE(with_token.find("x-amz-security-token"), std::string::npos);
  EXPECT_EQ(with_token.find(kExampleCredentials.secret_key), std::string::npos);
}

TEST(SigV4, UriEncoding) {
  EXPECT_EQ(uri_encode("a b/c+d=é~", true), "a%20b/c%2Bd%3D%C3%A9~");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(canonical_query({{"uploadId", "a/b+c=="}, {"partNumber", "2"}}), "partNumber=2&uploadId=a%2Fb%2Bc%3D%3D");
  EXPECT_EQ(amz_date(std::chrono::system_clock::from_time_t(1369353600)), "20130524T000000Z");
}

}  // namespace
}  // namespace shardsafe::storage::s3

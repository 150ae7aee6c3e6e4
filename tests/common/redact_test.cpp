#include "common/redact.h"

#include <gtest/gtest.h>

namespace shardsafe {
namespace {

TEST(RedactUri, HidesMongoPassword) {
  EXPECT_EQ(redact_uri("mongodb://admin:s3cret@h1:27017,h2:27018/?replicaSet=rs0"),
            "mongodb://admin:***@h1:27017,h2:27018/?replicaSet=rs0");
}

TEST(RedactUri, KeepsUserWithoutPassword) {
  EXPECT_EQ(redact_uri("mongodb://admin@h1/"), "mongodb://admin@h1/");
}

TEST(RedactUri, HidesSecretQueryParameters) {
  EXPECT_EQ(redact_uri("s3://bucket/p?endpoint=http://x&secret_key=abc&region=us"),
            "s3://bucket/p?endpoint=http://x&secret_key=***&region=us");
  EXPECT_EQ(redact_uri("https://b.s3/k?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA"),
            "https://b.s3/k?X-Amz-Signature=***&X-Amz-Credential=***");
}

TEST(RedactUri, LeavesPlainTextAlone) {
  EXPECT_EQ(redact_uri("not a uri"), "not a uri");
  EXPECT_EQ(redact_uri("file:///var/backups"), "file:///var/backups");
}

}  // namespace
}  // namespace shardsafe

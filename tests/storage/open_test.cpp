// Storage URLs, settings from the config file, and where S3 credentials come from.
#include "storage/open.h"

#include <cstdlib>
#include <fstream>

#include "storage/aws_environment.h"
#include "storage/conformance.h"
#include "storage/s3/credentials.h"
#include "storage/temp_dir.h"

namespace shardsafe::storage::testing {
namespace {

// Credentials given in the settings, for tests about everything else in the URL.
const StorageSettings keys{{"access_key", "AK"}, {"secret_key", "SK"}};

class OpenStorage : public AwsEnvironment {
 protected:
  void write_credentials(const std::string& text) { std::ofstream(dir_.path() / "credentials") << text; }
};

TEST_F(OpenStorage, FileUrlOpensADirectory) {
  auto storage = open_storage("file://" + (dir_.path() / "backups").string());
  put(*storage, "a/b", std::string("x"));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "backups/a/b"));
  EXPECT_EQ(storage->describe(), "file://" + (dir_.path() / "backups").string());
}

TEST_F(OpenStorage, S3UrlParametersAndDefaults) {
  const auto config = s3_config_from_url(
      "s3://my-bucket/some/prefix/?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=eu-west-1&path_style=true"
      "&access_key=AK&secret_key=SK&upload_concurrency=8");
  EXPECT_EQ(config.bucket, "my-bucket");
  EXPECT_EQ(config.prefix, "some/prefix");
  EXPECT_EQ(config.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(config.region, "eu-west-1");
  EXPECT_TRUE(config.path_style);
  EXPECT_EQ(config.upload_concurrency, 8);
  EXPECT_EQ(config.credentials.current().access_key, "AK");

  const auto aws = s3_config_from_url("s3://b-1/", keys);
  EXPECT_EQ(aws.region, "us-east-1");
  EXPECT_EQ(aws.endpoint, "https://s3.us-east-1.amazonaws.com");
  EXPECT_FALSE(aws.path_style);
  EXPECT_EQ(aws.prefix, "");
}

// bucket.with.dots.s3.amazonaws.com does not match *.s3.amazonaws.com: such buckets go
// path-style over HTTPS unless told otherwise.
TEST_F(OpenStorage, DottedBucketsArePathStyleOverHttps) {
  EXPECT_TRUE(s3_config_from_url("s3://backups.example.com/p", keys).path_style);
  EXPECT_FALSE(s3_config_from_url("s3://backups.example.com/p?path_style=false", keys).path_style);
  EXPECT_FALSE(s3_config_from_url("s3://backups.example.com/p?endpoint=http://minio:9000", keys).path_style);
  EXPECT_FALSE(s3_config_from_url("s3://backups-example/p", keys).path_style);
}

// As the AWS SDKs: the payload is hashed into the signature over plain HTTP only, since TLS
// already protects it; either way can be asked for, except from OSS.
TEST_F(OpenStorage, PayloadIsSignedOverHttpOnlyByDefault) {
  EXPECT_TRUE(s3_config_from_url("s3://b-1?endpoint=http://minio:9000", keys).sign_payload);
  EXPECT_FALSE(s3_config_from_url("s3://b-1", keys).sign_payload);
  EXPECT_FALSE(s3_config_from_url("s3://b-1?endpoint=http://minio:9000&sign_payload=false", keys).sign_payload);
  EXPECT_TRUE(s3_config_from_url("s3://b-1?sign_payload=true", keys).sign_payload);
  // OSS wants the SHA-256 of every PUT and POST body, over HTTPS too.
  EXPECT_TRUE(s3_config_from_url("oss://b-1?region=cn-beijing", keys).sign_payload);
  EXPECT_EQ(error_code_of([&] { s3_config_from_url("oss://b-1?region=cn-beijing&sign_payload=false", keys); }),
            ErrorCode::kBadUri);
}

TEST_F(OpenStorage, StorageClassAndServerSideEncryption) {
  const auto config = s3_config_from_url(
      "s3://b-1?storage_class=GLACIER_IR&sse=aws:kms&sse_kms_key_id=arn:aws:kms:eu-west-1:111122223333:key/1234-ab",
      keys);
  EXPECT_EQ(config.storage_class, "GLACIER_IR");
  EXPECT_EQ(config.sse, "aws:kms");
  EXPECT_EQ(config.sse_kms_key_id, "arn:aws:kms:eu-west-1:111122223333:key/1234-ab");
  EXPECT_EQ(s3_config_from_url("s3://b-1?sse=AES256", keys).sse, "AES256");
}

TEST_F(OpenStorage, UrlParametersWinOverSettings) {
  const StorageSettings settings{{"region", "ap-south-1"}, {"endpoint", "http://settings:1"},
                                 {"access_key", "AK"},     {"secret_key", "SK"},
                                 {"compression", "zstd"}};  // not a storage setting: ignored
  const auto config = s3_config_from_url("s3://bucket?region=us-west-2", settings);
  EXPECT_EQ(config.region, "us-west-2");
  EXPECT_EQ(config.endpoint, "http://settings:1");
}

TEST_F(OpenStorage, OssIsVirtualHostedWithTheRegionFromTheEndpoint) {
  const auto config = s3_config_from_url("oss://bucket/p?endpoint=https://s3.oss-cn-hangzhou.aliyuncs.com", keys);
  EXPECT_EQ(config.region, "cn-hangzhou");
  EXPECT_FALSE(config.path_style);
  EXPECT_EQ(s3_config_from_url("oss://bucket?endpoint=https://oss-eu-central-1-internal.aliyuncs.com", keys).region,
            "eu-central-1");
  EXPECT_EQ(s3_config_from_url("oss://bucket?region=cn-beijing", keys).endpoint,
            "https://s3.oss-cn-beijing.aliyuncs.com");
  EXPECT_EQ(error_code_of([&] { s3_config_from_url("oss://bucket", keys); }), ErrorCode::kBadUri);
  EXPECT_EQ(error_code_of([&] { s3_config_from_url("oss://bucket?region=cn-beijing&path_style=true", keys); }),
            ErrorCode::kBadUri);
}

TEST_F(OpenStorage, BadUrlsAreBadUriErrorsWithoutSecrets) {
  const std::vector<std::string> bad = {
      "ftp://host/path",
      "/just/a/path",
      "file://relative/path",
      "file:///",
      "s3://",
      "s3://Bad_Bucket/x?secret_key=hunter2",
      "s3://bucket/x?secret_key=hunter2&colour=blue",
      "s3://bucket/x?secret_key=hunter2&path_style=maybe",
      "s3://bucket/x?secret_key=hunter2&endpoint=ftp://x",
      "s3://bucket/x?secret_key=hunter2&upload_part_size=1024",
      "s3://bucket/x?secret_key=hunter2&max_attempts=lots",
      "s3://bucket/x?secret_key=hunter2&max_attempts=99999999999999999999999",  // past 2^64
      "s3://bucket/x?secret_key=hunter2&max_attempts=-3",
      "s3://bucket/x?secret_key=hunter2&novalue",
      "s3://bucket/x?secret_key=hunter2&sse=aes",
      "s3://bucket/x?secret_key=hunter2&sse=AES256&sse_kms_key_id=k",
      "s3://bucket/x?secret_key=hunter2&storage_class=STANDARD%0D%0AX-Evil:%201",
      "s3://bucket/x?secret_key=hunter2&ca_file=/no/such/ca.pem",
  };
  for (const auto& url : bad) {
    std::string message;
    EXPECT_EQ(error_code_of([&] { open_storage(url, keys); }, &message),
              ErrorCode::kBadUri)
        << url;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  }
}

// As the AWS CLI: what is named for this storage (keys, then a profile) beats the
// environment, which beats the shared file's AWS_PROFILE or default section.
TEST_F(OpenStorage, CredentialsComeFromSettingsThenProfileThenEnvironmentThenSharedFile) {
  write_credentials(
      "[default]\naws_access_key_id = FILE_AK\naws_secret_access_key = FILE_SK\n\n"
      "[backup]\naws_access_key_id=PROFILE_AK\naws_secret_access_key=PROFILE_SK\naws_session_token=PROFILE_TOKEN\n");
  EXPECT_EQ(s3::find_credentials({})->access_key, "FILE_AK");
  ::setenv("AWS_PROFILE", "backup", 1);
  EXPECT_EQ(s3::find_credentials({})->access_key, "PROFILE_AK");

  ::setenv("AWS_ACCESS_KEY_ID", "ENV_AK", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "ENV_SK", 1);
  ::setenv("AWS_SESSION_TOKEN", "ENV_TOKEN", 1);
  const auto env = *s3::find_credentials({});
  EXPECT_EQ(env.access_key, "ENV_AK");
  EXPECT_EQ(env.secret_key, "ENV_SK");
  EXPECT_EQ(env.session_token, "ENV_TOKEN");

  const auto profile = *s3::find_credentials({{"profile", "default"}});
  EXPECT_EQ(profile.access_key, "FILE_AK");
  EXPECT_EQ(profile.session_token, "");
  std::string message;
  EXPECT_EQ(error_code_of([&] { s3::find_credentials({{"profile", "nightly"}}); }, &message),
            ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("\"nightly\""), std::string::npos) << message;

  const auto keys =
      *s3::find_credentials({{"access_key", "SETTINGS_AK"}, {"secret_key", "SETTINGS_SK"}, {"profile", "backup"}});
  EXPECT_EQ(keys.access_key, "SETTINGS_AK");
  EXPECT_EQ(keys.session_token, "");
}

TEST_F(OpenStorage, MissingCredentialsAreAClearError) {
  std::string message;
  EXPECT_EQ(error_code_of([&] { s3_config_from_url("s3://bucket/x"); }, &message), ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("AWS_ACCESS_KEY_ID"), std::string::npos) << message;
  EXPECT_NE(message.find("AWS_EC2_METADATA_DISABLED"), std::string::npos) << message;
  // Half a pair is not a pair.
  EXPECT_EQ(error_code_of([&] { s3_config_from_url("s3://bucket/x?access_key=AK"); }), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace shardsafe::storage::testing

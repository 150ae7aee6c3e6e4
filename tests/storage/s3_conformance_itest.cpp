// The conformance suite on the S3 driver against s3rver on loopback, in both addressing
// styles (s3rver does not verify SigV4 signatures: sigv4_test.cpp checks them against AWS's
// documented examples).
#include "storage/conformance.h"
#include "storage/open.h"
#include "storage/s3rver.h"

namespace shardsafe::storage::testing {
namespace {

S3rver& server() {
  static S3rver instance("conformance");  // one server for the whole suite
  return instance;
}

std::string fresh_prefix() {
  static int counter = 0;
  return "run-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

// Small parts (5 MiB, S3's minimum) so the suite's larger objects take the multipart path.
constexpr const char* kSmallParts = "&upload_part_size=5242880&download_chunk_size=1000000&list_page_size=7";

struct S3PathStyle {
  static std::unique_ptr<Storage> make() { return open_storage(server().url(fresh_prefix(), kSmallParts)); }
};

// Virtual-hosted: <bucket>.s3.localhost, which curl resolves to loopback by itself.
struct S3VirtualHosted {
  static std::unique_ptr<Storage> make() {
    return open_storage("s3://" + server().bucket() + "/" + fresh_prefix() + "?endpoint=http://s3.localhost:" +
                            std::to_string(server().port()) + kSmallParts,
                        {{"access_key", kS3rverAccessKey}, {"secret_key", kS3rverSecretKey}});
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(S3PathStyle, StorageConformance, S3PathStyle);
INSTANTIATE_TYPED_TEST_SUITE_P(S3VirtualHosted, StorageConformance, S3VirtualHosted);

TEST(S3Storage, DescribeHidesSecrets) {
  auto storage = open_storage(server().url("p"));
  const auto described = storage->describe();
  EXPECT_NE(described.find("s3://conformance/p"), std::string::npos) << described;
  EXPECT_EQ(described.find(kS3rverSecretKey + std::string("&")), std::string::npos) << described;
  EXPECT_TRUE(storage->capabilities().parallel_parts);
}

TEST(S3Storage, PrefixesIsolateStorages) {
  auto a = open_storage(server().url("iso/a"));
  auto b = open_storage(server().url("iso/ab"));
  put(*a, "k", std::string("a"));
  put(*b, "k", std::string("b"));
  EXPECT_EQ(keys_of(list_all(*a, "")), std::vector<std::string>{"k"});
  EXPECT_EQ(read_object(*b, "k"), std::vector<std::uint8_t>{'b'});
}

}  // namespace
}  // namespace shardsafe::storage::testing

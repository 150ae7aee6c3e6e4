// The conformance suite on the S3 driver against s3rver on loopback, in both addressing
// styles (s3rver does not verify SigV4 signatures: sigv4_test.cpp checks them against AWS's
// documented examples).
#include <thread>

#include "storage/conformance.h"
#include "storage/crypto.h"
#include "storage/open.h"
#include "storage/pipeline.h"
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

// HTTPS, with a certificate of a CA the system does not know: trusted through ca_file, and
// with the default for HTTPS, UNSIGNED-PAYLOAD.
const SelfSignedCertificate& certificate() {
  static const SelfSignedCertificate instance;
  return instance;
}
S3rver& tls_server() {
  static S3rver instance("conformance", &certificate());
  return instance;
}

struct S3Https {
  static std::unique_ptr<Storage> make() {
    return open_storage(tls_server().url(fresh_prefix(), kSmallParts + std::string("&ca_file=") +
                                                             certificate().certificate_file()));
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(S3PathStyle, StorageConformance, S3PathStyle);
INSTANTIATE_TYPED_TEST_SUITE_P(S3VirtualHosted, StorageConformance, S3VirtualHosted);
INSTANTIATE_TYPED_TEST_SUITE_P(S3Https, StorageConformance, S3Https);

TEST(S3Storage, UntrustedCertificateFailsAtOnceNamingTheObjectAndCaFile) {
  auto s3 = open_storage(tls_server().url(fresh_prefix(), "&max_attempts=3"));
  try {
    put(*s3, "object", std::string("x"));
    FAIL() << "an untrusted certificate was accepted";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("/object\""), std::string::npos) << message;
    EXPECT_NE(message.find("ca_file"), std::string::npos) << message;
    // Not retried: a certificate does not become trusted by asking again.
    EXPECT_EQ(message.find("failed after"), std::string::npos) << message;
  }
}

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

TEST(S3Storage, OssUrlsSpeakTheSameApiVirtualHosted) {
  auto oss = open_storage("oss://" + server().bucket() + "/oss-run?endpoint=http://s3.localhost:" +
                          std::to_string(server().port()) + "&region=cn-hangzhou",
                          {{"access_key", kS3rverAccessKey}, {"secret_key", kS3rverSecretKey}});
  put(*oss, "a/b", std::string("oss"));
  EXPECT_EQ(keys_of(list_all(*oss, "a/")), std::vector<std::string>{"a/b"});
  EXPECT_EQ(read_object(*oss, "a/b").size(), 3u);
  EXPECT_NE(oss->describe().find("oss://conformance/oss-run"), std::string::npos);
}

// A split, compressed, encrypted stream on S3: the first part is renamed to .000 with a
// server-side copy once the stream outgrows it, and everything reads back verified.
TEST(S3Storage, SplitEncryptedStreamRoundTrips) {
  auto s3 = open_storage(server().url(fresh_prefix()));
  std::vector<std::uint8_t> key_bytes(32, 5);
  StreamOptions options;
  options.encryption = EncryptionKey{key_bytes, key_id_of(key_bytes)};
  options.part_size = 300'000;
  const auto data = random_bytes(1'000'000, 12);
  auto writer = write_stream(*s3, "rs0/db/coll.bson", options);
  writer->write(data);
  const auto stream = writer->commit();
  ASSERT_EQ(stream.parts.size(), 4u);
  EXPECT_EQ(keys_of(list_all(*s3, "")),
            (std::vector<std::string>{"rs0/db/coll.bson.zst.000", "rs0/db/coll.bson.zst.001",
                                      "rs0/db/coll.bson.zst.002", "rs0/db/coll.bson.zst.003"}));
  EXPECT_EQ(read_all(*read_stream(*s3, stream, options.encryption)), data);
}

// Writers of one storage share its upload_concurrency part slots (a dump writes several
// collections at once): with a single slot, three multipart uploads from three threads must
// all finish, each object whole and in order.
TEST(S3Storage, ConcurrentWritersShareThePartSlots) {
  auto s3 = open_storage(server().url(fresh_prefix(), "&upload_part_size=5242880&upload_concurrency=1"));
  std::vector<std::vector<std::uint8_t>> contents;
  for (std::uint32_t i = 0; i < 3; ++i) contents.push_back(random_bytes(12'000'000, 40 + i));  // 3 parts each
  std::vector<std::jthread> writers;
  for (std::size_t i = 0; i < contents.size(); ++i) {
    writers.emplace_back([&, i] {
      auto writer = s3->create("object-" + std::to_string(i));
      for (std::size_t offset = 0; offset < contents[i].size(); offset += 1'000'000) {
        writer->write(std::span(contents[i]).subspan(offset, std::min<std::size_t>(1'000'000, contents[i].size() - offset)));
      }
      writer->commit();
    });
  }
  writers.clear();  // joins
  for (std::size_t i = 0; i < contents.size(); ++i) {
    EXPECT_EQ(read_all(*s3->open("object-" + std::to_string(i))), contents[i]) << "object-" << i;
  }
}

}  // namespace
}  // namespace shardsafe::storage::testing

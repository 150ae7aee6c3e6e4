#include <gtest/gtest.h>

#include "common/error.h"
#include "mongo/client.h"
#include "mongo/topology.h"

namespace shardsafe::mongo {
namespace {

TEST(Uri, ParsesSeedListAndReplicaSet) {
  const Uri uri("mongodb://h1:27017,h2:27018/?replicaSet=rs0");
  EXPECT_EQ(uri.replica_set(), "rs0");
  EXPECT_EQ(uri.hosts(), (std::vector<std::string>{"h1:27017", "h2:27018"}));
}

TEST(Uri, BadUriIsAClearErrorWithoutThePassword) {
  try {
    Uri("mongodb://admin:hunter2@/?replicaSet=rs0");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kBadUri);
    const std::string message = error.what();
    EXPECT_NE(message.find("invalid MongoDB URI"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  }
  EXPECT_THROW(Uri("http://example"), Error);
}

TEST(Uri, RedactedFormHidesPassword) {
  const Uri uri("mongodb://admin:hunter2@h1:1/?replicaSet=rs0");
  EXPECT_EQ(uri.redacted(), "mongodb://admin:***@h1:1/?replicaSet=rs0");
}

TEST(Uri, WithHostsKeepsCredentialsAndOptions) {
  const Uri uri("mongodb://admin:pw@h1:1,h2:2/?replicaSet=rs0&connectTimeoutMS=500");
  const Uri direct = uri.direct_to("h2:2");
  EXPECT_EQ(direct.hosts(), std::vector<std::string>{"h2:2"});
  EXPECT_EQ(direct.replica_set(), std::nullopt);
  EXPECT_EQ(direct.redacted(), "mongodb://admin:***@h2:2/?connectTimeoutMS=500&directConnection=true");
  const Uri other = uri.with_hosts({"s1:1", "s2:2"}, "shard0");
  EXPECT_EQ(other.replica_set(), "shard0");
  EXPECT_EQ(other.redacted(), "mongodb://admin:***@s1:1,s2:2/?connectTimeoutMS=500&replicaSet=shard0");
}

TEST(ReplsetHostString, SplitsNameAndHosts) {
  const auto [name, hosts] = parse_replset_host_string("shard0/h1:1,h2:2");
  EXPECT_EQ(name, "shard0");
  EXPECT_EQ(hosts, (std::vector<std::string>{"h1:1", "h2:2"}));
  EXPECT_THROW(parse_replset_host_string("h1:1"), Error);
  EXPECT_THROW(parse_replset_host_string("rs/"), Error);
}

TEST(ReadPreference, ParsesModesAndRejectsOthers) {
  EXPECT_EQ(parse_read_preference("secondary"), ReadPreference::kSecondary);
  EXPECT_THROW(parse_read_preference("fastest"), Error);
}

}  // namespace
}  // namespace shardsafe::mongo

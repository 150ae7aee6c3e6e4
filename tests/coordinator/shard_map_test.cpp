// The shard map of a cluster restore: identity when the names match, --shard-map otherwise,
// and clear errors when the shapes differ.
#include <gtest/gtest.h>

#include "common/error.h"
#include "coordinator/config_metadata.h"

namespace shardsafe::coordinator {
namespace {

ErrorCode code_of(const std::function<void()>& call, std::string* message) {
  try {
    call();
  } catch (const Error& error) {
    *message = error.what();
    return error.code();
  }
  return ErrorCode::kInternal;
}

TEST(ShardMap, SameNamesMapToThemselves) {
  const auto map = resolve_shard_map({"shard0", "shard1"}, {"shard1", "shard0"}, {});
  EXPECT_EQ(map, (ShardMap{{"shard0", "shard0"}, {"shard1", "shard1"}}));
}

TEST(ShardMap, OtherNamesNeedAMap) {
  std::string message;
  EXPECT_EQ(code_of([] { resolve_shard_map({"shard0", "shard1"}, {"a", "b"}, {}); }, &message), ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("--shard-map shard0="), std::string::npos) << message;
  EXPECT_NE(message.find("the target a, b"), std::string::npos) << message;
  const auto map = resolve_shard_map({"shard0", "shard1"}, {"a", "b"}, {{"shard0", "b"}, {"shard1", "a"}});
  EXPECT_EQ(map, (ShardMap{{"shard0", "b"}, {"shard1", "a"}}));
}

TEST(ShardMap, AnotherShardCountIsRefused) {
  std::string message;
  EXPECT_EQ(code_of([] { resolve_shard_map({"shard0", "shard1"}, {"shard0"}, {}); }, &message), ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("1 shards, the backup 2"), std::string::npos) << message;
}

TEST(ShardMap, TwoShardsOntoOneIsRefused) {
  std::string message;
  EXPECT_EQ(code_of([] { resolve_shard_map({"shard0", "shard1"}, {"a", "b"}, {{"shard0", "a"}, {"shard1", "a"}}); }, &message),
            ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("two backup shards onto \"a\""), std::string::npos) << message;
}

}  // namespace
}  // namespace shardsafe::coordinator

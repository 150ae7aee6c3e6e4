#include <gtest/gtest.h>

#include "common/error.h"
#include "oplog/slice.h"

namespace shardsafe::oplog {
namespace {

using mongo::Timestamp;

OplogSlice slice(Timestamp start, Timestamp end, const std::string& replset = "rs0") {
  return {replset, start, end, 10, "sha-" + start.to_string(), slice_key(replset, start, end)};
}

// The error validate_chain throws, or a failure.
Error chain_error(const std::vector<OplogSlice>& slices, Timestamp from, Timestamp to) {
  try {
    validate_chain(slices, from, to);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "validate_chain accepted the slices";
  return Error(ErrorCode::kInternal, "none");
}

TEST(SliceKeyTest, ZeroPaddedSoKeysSortByTime) {
  EXPECT_EQ(slice_key("rs0", {1732573800, 5}, {1732574400, 12}),
            "oplog/rs0/1732573800.0000000005-1732574400.0000000012.bson");
  EXPECT_EQ(slice_timestamp({7, 0}), "0000000007.0000000000");
  EXPECT_EQ(slice_timestamp({4294967295u, 4294967295u}), "4294967295.4294967295");
  EXPECT_LT(slice_key("rs0", {9, 1}, {10, 1}), slice_key("rs0", {10, 1}, {100, 1}));
  EXPECT_LT(slice_key("rs0", {10, 9}, {10, 10}), slice_key("rs0", {10, 10}, {10, 11}));
}

TEST(SliceKeyTest, RejectsBadNamesAndEmptyRanges) {
  EXPECT_THROW(slice_key("", {1, 0}, {2, 0}), Error);
  EXPECT_THROW(slice_key("a/b", {1, 0}, {2, 0}), Error);
  EXPECT_THROW(slice_key("rs0", {2, 0}, {2, 0}), Error);
}

TEST(SliceKeyTest, ParsesItsOwnKeysWithOrWithoutFilterExtensions) {
  const auto parsed = parse_slice_key("oplog/rs0/1732573800.0000000005-1732574400.0000000012.bson.zst");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->replset, "rs0");
  EXPECT_EQ(parsed->start, (Timestamp{1732573800, 5}));
  EXPECT_EQ(parsed->end, (Timestamp{1732574400, 12}));
  const std::string key = slice_key("config-rs", {1, 2}, {3, 4});
  ASSERT_TRUE(parse_slice_key(key).has_value());
  EXPECT_EQ(parse_slice_key(key)->key, key);
  EXPECT_FALSE(parse_slice_key("oplog/rs0/1732573800.0000000005-1732574400.0000000012.bsonx"));
  EXPECT_FALSE(parse_slice_key("oplog/rs0/1732573800.5-1732574400.12.bson"));
  EXPECT_FALSE(parse_slice_key("backups/rs0/1732573800.0000000005-1732574400.0000000012.bson"));
  EXPECT_FALSE(parse_slice_key("oplog/rs0/1732574400.0000000012-1732573800.0000000005.bson"));
}

TEST(ValidateChainTest, ReturnsTheSlicesCoveringTheRangeInOrder) {
  const std::vector<OplogSlice> slices = {slice({30, 0}, {40, 0}), slice({10, 0}, {20, 0}), slice({20, 0}, {30, 0}),
                                          slice({1, 0}, {10, 0}), slice({40, 0}, {50, 0})};
  const auto chain = validate_chain(slices, {15, 0}, {35, 0});
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0].start, (Timestamp{10, 0}));
  EXPECT_EQ(chain[1].start, (Timestamp{20, 0}));
  EXPECT_EQ(chain[2].start, (Timestamp{30, 0}));
  EXPECT_EQ(validate_chain(slices, {10, 0}, {20, 0}).size(), 1u);  // start exclusive, end inclusive
  EXPECT_TRUE(validate_chain({}, {5, 0}, {5, 0}).empty());
}

TEST(ValidateChainTest, ExactDuplicatesCountOnce) {
  const auto chain = validate_chain({slice({1, 0}, {2, 0}), slice({1, 0}, {2, 0}), slice({2, 0}, {3, 0})}, {1, 0}, {3, 0});
  EXPECT_EQ(chain.size(), 2u);
}

TEST(ValidateChainTest, AHoleBetweenSlicesNamesTheSetAndTheMissingRange) {
  const Error e = chain_error({slice({1, 0}, {2, 0}), slice({3, 0}, {4, 0})}, {1, 0}, {4, 0});
  EXPECT_EQ(e.code(), ErrorCode::kChainGap);
  EXPECT_STREQ(e.what(), "oplog chain of replica set \"rs0\" has a gap: entries after 2.0 up to 3.0 are in no slice");
}

TEST(ValidateChainTest, ChainsThatDoNotReachEitherEndAreGaps) {
  EXPECT_NE(std::string(chain_error({slice({2, 0}, {4, 0})}, {1, 0}, {4, 0}).what()).find("after 1.0 up to 2.0"),
            std::string::npos);
  EXPECT_NE(std::string(chain_error({slice({1, 0}, {3, 0})}, {1, 0}, {4, 0}).what()).find("after 3.0 up to 4.0"),
            std::string::npos);
  EXPECT_EQ(chain_error({}, {1, 0}, {4, 0}).code(), ErrorCode::kChainGap);
  EXPECT_EQ(chain_error({slice({5, 0}, {6, 0})}, {1, 0}, {4, 0}).code(), ErrorCode::kChainGap);
}

TEST(ValidateChainTest, OverlapsOtherThanExactDuplicatesAreRejected) {
  const Error overlap = chain_error({slice({1, 0}, {3, 0}), slice({2, 0}, {4, 0})}, {1, 0}, {4, 0});
  EXPECT_EQ(overlap.code(), ErrorCode::kChainGap);
  EXPECT_NE(std::string(overlap.what()).find("overlap"), std::string::npos);
  OplogSlice altered = slice({1, 0}, {2, 0});
  altered.sha256 = "different";
  EXPECT_EQ(chain_error({slice({1, 0}, {2, 0}), altered}, {1, 0}, {2, 0}).code(), ErrorCode::kChainGap);
}

TEST(ValidateChainTest, RejectsMixedSetsAndReversedRanges) {
  EXPECT_EQ(chain_error({slice({1, 0}, {2, 0}), slice({2, 0}, {3, 0}, "rs1")}, {1, 0}, {3, 0}).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(chain_error({slice({1, 0}, {2, 0})}, {3, 0}, {1, 0}).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace shardsafe::oplog

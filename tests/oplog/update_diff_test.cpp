#include "oplog/update_diff.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace shardsafe::oplog {
namespace {

using mongo::Bson;

std::string applied(const std::string& document, const std::string& diff) {
  return apply_update_diff(Bson::from_json(document), Bson::from_json(diff)).canonical_json();
}

std::string canonical(const std::string& json) { return Bson::from_json(json).canonical_json(); }

TEST(UpdateDiff, UpdatesInPlaceInsertsAtTheEndAndDeletes) {
  EXPECT_EQ(applied(R"({"_id": 1, "a": 1, "b": 2, "c": 3})", R"({"u": {"b": "two"}, "i": {"z": true}, "d": {"c": false}})"),
            canonical(R"({"_id": 1, "a": 1, "b": "two", "z": true})"));
}

TEST(UpdateDiff, SubDiffsReachIntoDocumentsAndArrays) {
  // What a chunk migration's $set of shard, lastmod and history logs, and deeper changes.
  EXPECT_EQ(applied(R"({"_id": 1, "m": {"x": 1, "y": {"z": 1}}, "h": [{"s": "a"}, {"s": "b"}, 3]})",
                    R"({"sm": {"u": {"x": 2}, "sy": {"i": {"w": 0}}}, "sh": {"a": true, "s0": {"u": {"s": "c"}}, "u2": 4}})"),
            canonical(R"({"_id": 1, "m": {"x": 2, "y": {"z": 1, "w": 0}}, "h": [{"s": "c"}, {"s": "b"}, 4]})"));
}

TEST(UpdateDiff, ArraysShrinkToTheirNewLengthAndGrowByUpdates) {
  EXPECT_EQ(applied(R"({"a": [1, 2, 3, 4]})", R"({"sa": {"a": true, "l": 2}})"), canonical(R"({"a": [1, 2]})"));
  EXPECT_EQ(applied(R"({"a": [1]})", R"({"sa": {"a": true, "u2": 3}})"), canonical(R"({"a": [1, null, 3]})"));
}

TEST(UpdateDiff, UnknownPartsAndSubDiffsOfScalarsAreRefused) {
  try {
    applied(R"({"a": 1})", R"({"x": {"a": 2}})");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kUnsupportedVersion);
    EXPECT_NE(std::string(error.what()).find("\"x\""), std::string::npos);
  }
  try {
    applied(R"({"a": 1})", R"({"sa": {"u": {"b": 2}}})");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
  }
}

}  // namespace
}  // namespace shardsafe::oplog

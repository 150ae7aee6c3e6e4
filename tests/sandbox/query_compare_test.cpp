// compare_values: MongoDB's cross-type comparison order and value comparison within types.
#include <cmath>
#include <string>
#include <vector>

#include "query_test_helpers.h"

namespace sandbox::testing {
namespace {

int sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

// One value per canonical type, in MongoDB's documented ascending order.
const std::vector<std::string> kAscendingByType = {
    R"({"$minKey": 1})",
    R"(null)",
    R"(5)",
    R"("abc")",
    R"({"x": 1})",
    R"([1, 2])",
    R"({"$binary": {"base64": "AAE=", "subType": "00"}})",
    R"({"$oid": "5f0000000000000000000001"})",
    R"(false)",
    R"({"$date": "2020-01-01T00:00:00Z"})",
    R"({"$timestamp": {"t": 1, "i": 1}})",
    R"({"$regularExpression": {"pattern": "a", "options": ""}})",
    R"({"$code": "x"})",
    R"({"$maxKey": 1})",
};

TEST(QueryCompare, TypesFollowMongoDbOrder) {
  for (std::size_t i = 0; i < kAscendingByType.size(); ++i) {
    for (std::size_t j = 0; j < kAscendingByType.size(); ++j) {
      int expected = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ(sign(compare_json(kAscendingByType[i], kAscendingByType[j])), expected)
          << kAscendingByType[i] << " vs " << kAscendingByType[j];
    }
  }
}

TEST(QueryCompare, NumbersCompareByValueAcrossTypes) {
  EXPECT_EQ(compare_json(R"({"$numberInt": "1"})", R"({"$numberLong": "1"})"), 0);
  EXPECT_EQ(compare_json(R"({"$numberInt": "1"})", R"({"$numberDouble": "1.0"})"), 0);
  EXPECT_EQ(compare_json(R"({"$numberDecimal": "1.0"})", R"({"$numberInt": "1"})"), 0);
  EXPECT_LT(compare_json(R"({"$numberInt": "1"})", R"({"$numberDouble": "1.5"})"), 0);
  EXPECT_GT(compare_json(R"({"$numberDecimal": "2.5"})", R"({"$numberDouble": "2.25"})"), 0);
  // int64 values beyond double precision still compare exactly.
  EXPECT_LT(compare_json(R"({"$numberLong": "9007199254740992"})",
                         R"({"$numberLong": "9007199254740993"})"),
            0);
  EXPECT_GT(compare_json(R"({"$numberLong": "9007199254740993"})",
                         R"({"$numberDouble": "9007199254740992"})"),
            0);
}

TEST(QueryCompare, NanSortsBelowAllNumbersAndNegativeZeroEqualsZero) {
  EXPECT_LT(compare_json(R"({"$numberDouble": "NaN"})", R"({"$numberDouble": "-Infinity"})"), 0);
  EXPECT_LT(compare_json(R"({"$numberDouble": "NaN"})", R"({"$numberLong": "-5"})"), 0);
  EXPECT_EQ(compare_json(R"({"$numberDouble": "NaN"})", R"({"$numberDouble": "NaN"})"), 0);
  EXPECT_GT(compare_json(R"({"$numberDouble": "NaN"})", R"(null)"), 0);
  EXPECT_EQ(compare_json(R"({"$numberDouble": "-0.0"})", R"({"$numberInt": "0"})"), 0);
}

TEST(QueryCompare, StringsCompareAsBytes) {
  EXPECT_LT(compare_json(R"("B")", R"("a")"), 0);  // binary, not case-insensitive
  EXPECT_LT(compare_json(R"("ab")", R"("abc")"), 0);
  EXPECT_GT(compare_json(R"("é")", R"("z")"), 0);  // UTF-8 bytes 0xC3.. > 'z'
  EXPECT_EQ(compare_json(R"({"$symbol": "abc"})", R"("abc")"), 0);
}

TEST(QueryCompare, ObjectsCompareFieldByField) {
  EXPECT_LT(compare_json(R"({"a": 1})", R"({"a": 2})"), 0);
  EXPECT_LT(compare_json(R"({"a": 1})", R"({"b": 0})"), 0);                  // field names
  EXPECT_LT(compare_json(R"({"a": 1})", R"({"a": 1, "b": 1})"), 0);          // prefix first
  EXPECT_LT(compare_json(R"({"a": 99})", R"({"a": "x"})"), 0);               // type before value
  EXPECT_NE(compare_json(R"({"a": 1, "b": 2})", R"({"b": 2, "a": 1})"), 0);  // order matters
  EXPECT_EQ(compare_json(R"({"a": {"b": 1.0}})", R"({"a": {"b": 1}})"), 0);
}

TEST(QueryCompare, ArraysCompareElementByElement) {
  EXPECT_LT(compare_json(R"([1, 2])", R"([1, 3])"), 0);
  EXPECT_LT(compare_json(R"([1])", R"([1, 0])"), 0);
  EXPECT_LT(compare_json(R"([])", R"([null])"), 0);
  EXPECT_GT(compare_json(R"(["a"])", R"([5, 6])"), 0);
}

TEST(QueryCompare, BinDataByLengthThenSubtypeThenBytes) {
  // Longer data sorts after shorter regardless of bytes.
  EXPECT_LT(compare_json(R"({"$binary": {"base64": "/w==", "subType": "00"}})",
                         R"({"$binary": {"base64": "AAA=", "subType": "00"}})"),
            0);
  EXPECT_LT(compare_json(R"({"$binary": {"base64": "/w==", "subType": "00"}})",
                         R"({"$binary": {"base64": "AA==", "subType": "04"}})"),
            0);
  EXPECT_LT(compare_json(R"({"$binary": {"base64": "AA==", "subType": "00"}})",
                         R"({"$binary": {"base64": "AQ==", "subType": "00"}})"),
            0);
}

TEST(QueryCompare, ScalarTypesCompareByValue) {
  EXPECT_LT(compare_json(R"({"$oid": "5f0000000000000000000001"})",
                         R"({"$oid": "5f0000000000000000000002"})"),
            0);
  EXPECT_LT(compare_json("false", "true"), 0);
  EXPECT_LT(
      compare_json(R"({"$date": {"$numberLong": "-5"}})", R"({"$date": {"$numberLong": "3"}})"), 0);
  EXPECT_LT(
      compare_json(R"({"$timestamp": {"t": 1, "i": 9}})", R"({"$timestamp": {"t": 2, "i": 1}})"),
      0);
  EXPECT_LT(
      compare_json(R"({"$timestamp": {"t": 2, "i": 1}})", R"({"$timestamp": {"t": 2, "i": 2}})"),
      0);
  // Timestamps are unsigned: t = 2^31 + 1 is greater than 1.
  EXPECT_GT(compare_json(R"({"$timestamp": {"t": 2147483649, "i": 0}})",
                         R"({"$timestamp": {"t": 1, "i": 0}})"),
            0);
  EXPECT_LT(compare_json(R"({"$regularExpression": {"pattern": "a", "options": "i"}})",
                         R"({"$regularExpression": {"pattern": "b", "options": ""}})"),
            0);
  EXPECT_LT(compare_json(R"({"$regularExpression": {"pattern": "a", "options": ""}})",
                         R"({"$regularExpression": {"pattern": "a", "options": "i"}})"),
            0);
  EXPECT_EQ(compare_json(R"({"$minKey": 1})", R"({"$minKey": 1})"), 0);
  EXPECT_EQ(compare_json("null", "null"), 0);
}

TEST(QueryCompare, IsAntisymmetricOverAMixedSample) {
  std::vector<std::string> sample = kAscendingByType;
  sample.insert(sample.end(), {R"({"$numberDouble": "NaN"})", R"(-1.5)", R"({"$numberLong": "7"})",
                               R"("")", R"({})", R"([])", R"(true)", R"({"$undefined": true})"});
  for (const auto& a : sample) {
    for (const auto& b : sample) {
      EXPECT_EQ(sign(compare_json(a, b)), -sign(compare_json(b, a))) << a << " vs " << b;
    }
  }
}

}  // namespace
}  // namespace sandbox::testing

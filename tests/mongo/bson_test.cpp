#include "mongo/bson.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace shardsafe::mongo {
namespace {

TEST(Bson, BuilderAppendsInOrderAndViewReadsBack) {
  const Bson doc = BsonBuilder()
                       .append("name", "rs0")
                       .append("count", std::int32_t{7})
                       .append("big", std::int64_t{1} << 40)
                       .append("ratio", 0.5)
                       .append("ok", true)
                       .append("ts", Timestamp{1700000000, 3})
                       .append("nested", BsonBuilder().append("id", std::int64_t{42}).build())
                       .build();
  const BsonView view(doc);
  EXPECT_EQ(view.string("name"), "rs0");
  EXPECT_EQ(view.integer("count"), 7);
  EXPECT_EQ(view.integer("big"), std::int64_t{1} << 40);
  EXPECT_EQ(view.number("ratio"), 0.5);
  EXPECT_EQ(view.boolean("ok"), true);
  EXPECT_EQ(view.timestamp("ts"), (Timestamp{1700000000, 3}));
  EXPECT_EQ(view.integer("nested.id"), 42);
  EXPECT_FALSE(view.has("missing"));
  EXPECT_EQ(view.string("count"), std::nullopt);  // wrong type is "missing", not a crash
  EXPECT_EQ(doc.relaxed_json(),
            R"({ "name" : "rs0", "count" : 7, "big" : 1099511627776, "ratio" : 0.5, "ok" : true, )"
            R"("ts" : { "$timestamp" : { "t" : 1700000000, "i" : 3 } }, "nested" : { "id" : 42 } })");
}

TEST(Bson, CopiesAndMovesKeepTheDocument) {
  Bson original = Bson::from_json(R"({"a": 1, "b": [1, 2, {"c": "x"}]})");
  Bson copy = original;
  Bson moved = std::move(original);
  EXPECT_EQ(copy.canonical_json(), moved.canonical_json());
  EXPECT_TRUE(original.empty());  // NOLINT(bugprone-use-after-move): moved-from is a valid {}
  EXPECT_EQ(BsonView(moved).documents("b").size(), 1u);
  EXPECT_EQ(BsonView(moved).string("b.2.c"), "x");
}

TEST(Bson, RejectsCorruptBytes) {
  const std::uint8_t truncated[] = {12, 0, 0, 0, 0x10, 'a', 0};
  EXPECT_THROW(Bson::from_bytes(truncated), Error);
  try {
    Bson::from_bytes(truncated);
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
  }
}

TEST(Bson, RejectsBadJsonWithReason) {
  try {
    Bson::from_json("{not json");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(error.what()).find("invalid extended JSON"), std::string::npos);
  }
}

TEST(Timestamp, ParsesAndPrintsSecondsDotIncrement) {
  EXPECT_EQ(Timestamp::parse("1732573800.5"), (Timestamp{1732573800, 5}));
  EXPECT_EQ(Timestamp::parse("1732573800"), (Timestamp{1732573800, 0}));
  EXPECT_EQ((Timestamp{12, 34}).to_string(), "12.34");
  EXPECT_LT((Timestamp{12, 34}), (Timestamp{12, 35}));
  EXPECT_LT((Timestamp{12, 99}), (Timestamp{13, 0}));
  for (const char* bad : {"", "x", "1.", ".5", "1.2.3", "-1"}) {
    EXPECT_THROW(Timestamp::parse(bad), Error) << bad;
  }
}

}  // namespace
}  // namespace shardsafe::mongo

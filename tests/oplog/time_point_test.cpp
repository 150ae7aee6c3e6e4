#include "oplog/time_point.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace shardsafe::oplog {
namespace {

using mongo::Timestamp;

TEST(TimePoint, Iso8601UtcIsTheInstantBeforeEveryEntryOfThatSecond) {
  EXPECT_EQ(parse_time_point("2024-11-25T22:10:00Z"), (Timestamp{1732572600, 0}));
  EXPECT_EQ(parse_time_point("2024-11-25T22:10:00+00:00"), (Timestamp{1732572600, 0}));
  EXPECT_EQ(parse_time_point("1970-01-01T00:00:01Z"), (Timestamp{1, 0}));
  EXPECT_EQ(parse_time_point("2024-02-29T00:00:00Z"), (Timestamp{1709164800, 0}));
}

TEST(TimePoint, SecondsDotIncrementAndShellTimestampAreExact) {
  EXPECT_EQ(parse_time_point("1732572600.5"), (Timestamp{1732572600, 5}));
  EXPECT_EQ(parse_time_point("1732572600"), (Timestamp{1732572600, 0}));
  EXPECT_EQ(parse_time_point("Timestamp(1732572600, 5)"), (Timestamp{1732572600, 5}));
  EXPECT_EQ(parse_time_point("Timestamp(1732572600,5)"), (Timestamp{1732572600, 5}));
  EXPECT_EQ(parse_time_point("4294967295.4294967295"), (Timestamp{4294967295u, 4294967295u}));
}

TEST(TimePoint, EverythingElseIsRefusedQuotingTheText) {
  for (const char* bad : {"", "yesterday", "2024-11-25T22:10:00", "2024-11-25T22:10:00+08:00", "2024-11-25T22:10:00.5Z",
                          "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-11-25T24:00:00Z", "1732572600.5.1",
                          "4294967296.0", "-5.1", "Timestamp(1, )", "Timestamp(1, 2", "1732572600.5x", "2024-1-25T22:10:00Z"}) {
    try {
      parse_time_point(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(error.what()).find("\"" + std::string(bad) + "\""), std::string::npos) << error.what();
    }
  }
}

TEST(TimePoint, DescribeShowsBothForms) {
  EXPECT_EQ(describe_time_point({1732572600, 5}), "2024-11-25T22:10:00Z (1732572600.5)");
}

}  // namespace
}  // namespace shardsafe::oplog

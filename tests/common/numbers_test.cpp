#include "common/numbers.h"

#include <gtest/gtest.h>

namespace shardsafe {
namespace {

TEST(ParseUint64, WholeDecimalNumbersOnly) {
  EXPECT_EQ(parse_uint64("0"), 0u);
  EXPECT_EQ(parse_uint64("18446744073709551615"), UINT64_MAX);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1e3", "0x10", "12abc", "18446744073709551616"}) {
    EXPECT_EQ(parse_uint64(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(ParseDurationSeconds, AWholeNumberAndOneUnit) {
  EXPECT_EQ(parse_duration_seconds("90s"), 90u);
  EXPECT_EQ(parse_duration_seconds("45m"), 2700u);
  EXPECT_EQ(parse_duration_seconds("12h"), 43200u);
  EXPECT_EQ(parse_duration_seconds("30d"), 2592000u);
  EXPECT_EQ(parse_duration_seconds("2w"), 1209600u);
  for (const char* bad : {"", "d", "30", "30D", "1.5h", "-1d", " 1d", "1d ", "30y", "30000000000000000w"}) {
    EXPECT_EQ(parse_duration_seconds(bad), std::nullopt) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace shardsafe

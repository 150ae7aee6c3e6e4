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

TEST(ParseByteSize, AWholeNumberAndABinaryUnit) {
  EXPECT_EQ(parse_byte_size("1048576"), 1048576u);
  EXPECT_EQ(parse_byte_size("0"), 0u);
  EXPECT_EQ(parse_byte_size("12b"), 12u);
  EXPECT_EQ(parse_byte_size("2k"), 2048u);
  EXPECT_EQ(parse_byte_size("2KB"), 2048u);
  EXPECT_EQ(parse_byte_size("512MiB"), 512ull << 20);
  EXPECT_EQ(parse_byte_size("64mb"), 64ull << 20);
  EXPECT_EQ(parse_byte_size("1GiB"), 1ull << 30);
  EXPECT_EQ(parse_byte_size("5TiB"), 5ull << 40);
  EXPECT_EQ(parse_byte_size("16777215TiB"), 16777215ull << 40);
  // "010MiB" and "-1" are what strtoull-based parsers (CLI11's) read as 8 MiB and 2^64-1.
  for (const char* bad : {"", "MiB", "-1", "+1", "0x10", "1.5GiB", " 1MiB", "1 MiB", "1MiB ", "12parsecs", "1iB",
                          "1kib2", "1PiB", "16777216TiB", "18446744073709551616"}) {
    EXPECT_EQ(parse_byte_size(bad), std::nullopt) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace shardsafe

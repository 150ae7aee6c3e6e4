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

}  // namespace
}  // namespace shardsafe

#include "server/cron.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/error.h"

namespace shardsafe::server {
namespace {

using namespace std::chrono;

// 2026-12-07T16:20:30Z, a Monday.
const system_clock::time_point kMonday = sys_days{year{2026} / 12 / 7} + hours(16) + minutes(20) + seconds(30);

std::string next(const std::string& expression, system_clock::time_point after = kMonday) {
  return iso8601(CronSchedule(expression).next_after(after));
}

TEST(CronScheduleTest, FindsTheNextMatchingMinuteInUtc) {
  EXPECT_EQ(next("* * * * *"), "2026-12-07T16:21:00Z");
  EXPECT_EQ(next("*/15 * * * *"), "2026-12-07T16:30:00Z");
  EXPECT_EQ(next("0 2 * * *"), "2026-12-08T02:00:00Z");
  EXPECT_EQ(next("20 16 * * *"), "2026-12-08T16:20:00Z") << "strictly after: the current minute is past";
  EXPECT_EQ(next("5,35 */4 * * *"), "2026-12-07T16:35:00Z");
  EXPECT_EQ(next("5 */3 * * *"), "2026-12-07T18:05:00Z");
  EXPECT_EQ(next("0 0 1 * *"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next("30 9 * * 0"), "2026-12-13T09:30:00Z") << "Sunday as 0";
  EXPECT_EQ(next("30 9 * * 7"), "2026-12-13T09:30:00Z") << "Sunday as 7";
  EXPECT_EQ(next("0 12 * * 1-5"), "2026-12-08T12:00:00Z");
  EXPECT_EQ(next("10-20/5 17 * * *"), "2026-12-07T17:10:00Z");
  EXPECT_EQ(next("0 0 29 2 *"), "2028-02-29T00:00:00Z") << "the next leap day";
}

TEST(CronScheduleTest, DayOfMonthOrDayOfWeekWhenBothAreRestricted) {
  // Vixie cron: the 15th or any Friday; the next Friday (Dec 11) comes first.
  EXPECT_EQ(next("0 0 15 * 5"), "2026-12-11T00:00:00Z");
  // Only the day of month restricted: Fridays do not count.
  EXPECT_EQ(next("0 0 15 * *"), "2026-12-15T00:00:00Z");
}

TEST(CronScheduleTest, RefusesMalformedExpressionsNamingTheField) {
  for (const auto& [expression, field] : std::vector<std::pair<std::string, std::string>>{
           {"* * * *", "5"}, {"60 * * * *", "minute"}, {"* 24 * * *", "hour"}, {"* * 0 * *", "day of month"},
           {"* * * 13 *", "month"}, {"* * * * 8", "day of week"}, {"*/0 * * * *", "minute"}, {"5-1 * * * *", "minute"},
           {"a * * * *", "minute"}, {"1,,2 * * * *", "minute"}, {"MON * * * *", "minute"}}) {
    try {
      CronSchedule schedule(expression);
      ADD_FAILURE() << expression << " was accepted";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(error.what()).find(field), std::string::npos) << error.what();
    }
  }
  EXPECT_THROW(CronSchedule("0 0 31 2 *").next_after(kMonday), Error) << "February 31st never comes";
}

}  // namespace
}  // namespace shardsafe::server

// Five-field cron schedules ("minute hour day-of-month month day-of-week"), in UTC.
//
// Each field is `*`, a number, a range `a-b`, any of these with a step (`*/15`, `0-30/10`), or a
// comma-separated list of them. Day of week: 0-7, both 0 and 7 are Sunday. As in Vixie cron,
// when both day of month and day of week are restricted (neither is `*`), a day matches when
// either matches. Names (`MON`, `JAN`) and macros (`@daily`) are not supported.
#pragma once

#include <bitset>
#include <chrono>
#include <string>

namespace shardsafe::server {

class CronSchedule {
 public:
  // Error(kInvalidArgument) naming the field and the expression when it does not parse.
  explicit CronSchedule(const std::string& expression);

  // The first whole minute strictly after `after` that matches. REQUIRES: some date matches
  // within 5 years (Error(kInvalidArgument) otherwise, e.g. "0 0 31 2 *").
  std::chrono::system_clock::time_point next_after(std::chrono::system_clock::time_point after) const;
  const std::string& expression() const { return expression_; }

 private:
  bool day_matches(int day_of_month, int month, int day_of_week) const;

  std::string expression_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;      // 1..31
  std::bitset<13> months_;    // 1..12
  std::bitset<8> weekdays_;   // 0..6 (7 folded into 0)
  bool any_day_ = false;      // day-of-month field is `*`
  bool any_weekday_ = false;  // day-of-week field is `*`
};

}  // namespace shardsafe::server

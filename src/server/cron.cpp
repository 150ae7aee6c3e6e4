#include "server/cron.h"

#include <charconv>
#include <sstream>
#include <vector>

#include "common/error.h"

namespace shardsafe::server {
namespace {

using namespace std::chrono;

struct FieldSpec {
  const char* name;
  int low, high;
};

constexpr FieldSpec kFields[] = {{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 7}};

[[noreturn]] void fail(const FieldSpec& field, const std::string& text, const std::string& expression) {
  throw Error(ErrorCode::kInvalidArgument, "cron schedule \"" + expression + "\": bad " + field.name + " \"" + text + "\" (" +
                                               std::to_string(field.low) + "-" + std::to_string(field.high) + ")");
}

int number(const std::string& text, const FieldSpec& field, const std::string& expression) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < field.low || value > field.high) {
    fail(field, text, expression);
  }
  return value;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
  if (!text.empty() && text.back() == separator) parts.emplace_back();
  return parts;
}

// One comma-separated element: `*`, `n`, `a-b`, each optionally `/step`.
void add_element(const std::string& element, const FieldSpec& field, const std::string& expression, std::vector<bool>& set) {
  const auto slash = element.find('/');
  const std::string range = element.substr(0, slash);
  const int step = slash == std::string::npos ? 1 : number(element.substr(slash + 1), {field.name, 1, field.high}, expression);
  int low = field.low, high = field.high;
  if (range != "*") {
    const auto dash = range.find('-');
    low = number(range.substr(0, dash), field, expression);
    high = dash == std::string::npos ? (slash == std::string::npos ? low : field.high) : number(range.substr(dash + 1), field, expression);
    if (low > high) fail(field, element, expression);
  }
  for (int value = low; value <= high; value += step) set[static_cast<std::size_t>(value)] = true;
}

std::vector<bool> parse_field(const std::string& text, const FieldSpec& field, const std::string& expression) {
  std::vector<bool> set(static_cast<std::size_t>(field.high) + 1, false);
  for (const auto& element : split(text, ',')) add_element(element, field, expression, set);
  return set;
}

template <std::size_t N>
void copy_bits(const std::vector<bool>& from, std::bitset<N>& to) {
  for (std::size_t i = 0; i < from.size() && i < N; ++i) to[i] = from[i];
}

}  // namespace

CronSchedule::CronSchedule(const std::string& expression) : expression_(expression) {
  std::istringstream stream(expression);
  std::vector<std::string> fields;
  for (std::string field; stream >> field;) fields.push_back(field);
  if (fields.size() != 5) {
    throw Error(ErrorCode::kInvalidArgument,
                "cron schedule \"" + expression + "\" has " + std::to_string(fields.size()) + " fields; it needs 5 (minute hour day month weekday)");
  }
  copy_bits(parse_field(fields[0], kFields[0], expression), minutes_);
  copy_bits(parse_field(fields[1], kFields[1], expression), hours_);
  copy_bits(parse_field(fields[2], kFields[2], expression), days_);
  copy_bits(parse_field(fields[3], kFields[3], expression), months_);
  const auto weekdays = parse_field(fields[4], kFields[4], expression);
  copy_bits(weekdays, weekdays_);
  if (weekdays[7]) weekdays_[0] = true;
  any_day_ = fields[2] == "*";
  any_weekday_ = fields[4] == "*";
}

bool CronSchedule::day_matches(int day_of_month, int month, int day_of_week) const {
  if (!months_[static_cast<std::size_t>(month)]) return false;
  const bool by_day = days_[static_cast<std::size_t>(day_of_month)];
  const bool by_weekday = weekdays_[static_cast<std::size_t>(day_of_week)];
  if (any_day_ || any_weekday_) return by_day && by_weekday;
  return by_day || by_weekday;
}

system_clock::time_point CronSchedule::next_after(system_clock::time_point after) const {
  auto minute = floor<minutes>(after) + minutes(1);
  const auto limit = minute + days(366 * 5);
  while (minute < limit) {
    const auto day = floor<days>(minute);
    const year_month_day date(day);
    const int day_of_week = static_cast<int>(weekday(day).c_encoding());
    if (!day_matches(static_cast<int>(static_cast<unsigned>(date.day())), static_cast<int>(static_cast<unsigned>(date.month())), day_of_week)) {
      minute = day + days(1);
      continue;
    }
    const hh_mm_ss time(minute - day);
    if (!hours_[static_cast<std::size_t>(time.hours().count())]) {
      minute = day + time.hours() + hours(1);
      continue;
    }
    if (minutes_[static_cast<std::size_t>(time.minutes().count())]) return minute;
    minute += minutes(1);
  }
  throw Error(ErrorCode::kInvalidArgument, "cron schedule \"" + expression_ + "\" matches no date");
}

}  // namespace shardsafe::server

#include "oplog/time_point.h"

#include <ctime>
#include <limits>
#include <optional>

#include "common/clock.h"
#include "common/error.h"
#include "common/numbers.h"

namespace shardsafe::oplog {
namespace {

using mongo::Timestamp;

[[noreturn]] void throw_bad(std::string_view text, const std::string& why) {
  throw Error(ErrorCode::kInvalidArgument,
              "invalid point in time \"" + std::string(text) + "\": " + why +
                  ". Expected an ISO-8601 UTC time (2026-12-04T18:30:00Z), <seconds>.<increment> (1733337000.5) "
                  "or Timestamp(1733337000, 5)");
}

std::optional<std::uint32_t> parse_uint32(std::string_view text) {
  const auto value = parse_uint64(text);
  if (!value || *value > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(*value);
}

// A fixed-width decimal field of an ISO time, within [low, high].
int field(std::string_view text, std::size_t at, std::size_t width, int low, int high, std::string_view whole) {
  const auto value = parse_uint64(text.substr(at, width));
  if (!value || text.substr(at, width).size() != width || *value < static_cast<std::uint64_t>(low) ||
      *value > static_cast<std::uint64_t>(high)) {
    throw_bad(whole, "field \"" + std::string(text.substr(at, width)) + "\" is out of range");
  }
  return static_cast<int>(*value);
}

Timestamp parse_iso8601(std::string_view text) {
  // "YYYY-MM-DDTHH:MM:SS" then the zone.
  constexpr std::size_t kDateTimeLength = 19;
  if (text.size() < kDateTimeLength || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
      text[13] != ':' || text[16] != ':') {
    throw_bad(text, "not a date and time");
  }
  const std::string_view zone = text.substr(kDateTimeLength);
  if (zone.starts_with(".")) throw_bad(text, "fractional seconds cannot name an oplog entry; use <seconds>.<increment>");
  if (zone != "Z" && zone != "z" && zone != "+00:00") throw_bad(text, "the time must be UTC (end it with Z)");
  std::tm tm{};
  tm.tm_year = field(text, 0, 4, 1970, 2105, text) - 1900;
  tm.tm_mon = field(text, 5, 2, 1, 12, text) - 1;
  tm.tm_mday = field(text, 8, 2, 1, 31, text);
  tm.tm_hour = field(text, 11, 2, 0, 23, text);
  tm.tm_min = field(text, 14, 2, 0, 59, text);
  tm.tm_sec = field(text, 17, 2, 0, 59, text);
  const std::tm given = tm;
  const std::time_t seconds = timegm(&tm);
  if (tm.tm_mday != given.tm_mday || tm.tm_mon != given.tm_mon) throw_bad(text, "no such day");
  if (seconds < 0 || seconds > std::numeric_limits<std::uint32_t>::max()) throw_bad(text, "out of the oplog's range");
  return {static_cast<std::uint32_t>(seconds), 0};
}

Timestamp parse_seconds_increment(std::string_view text, std::string_view whole) {
  const auto dot = text.find('.');
  const auto seconds = parse_uint32(text.substr(0, dot));
  const auto increment = dot == std::string_view::npos ? std::optional<std::uint32_t>(0) : parse_uint32(text.substr(dot + 1));
  if (!seconds || !increment) throw_bad(whole, "not <seconds>.<increment> with two 32-bit numbers");
  return {*seconds, *increment};
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

Timestamp parse_shell_timestamp(std::string_view text) {
  constexpr std::string_view kOpen = "Timestamp(";
  if (!text.ends_with(")")) throw_bad(text, "missing \")\"");
  const std::string_view inside = text.substr(kOpen.size(), text.size() - kOpen.size() - 1);
  const auto comma = inside.find(',');
  if (comma == std::string_view::npos) throw_bad(text, "Timestamp needs two numbers");
  const auto seconds = parse_uint32(trim(inside.substr(0, comma)));
  const auto increment = parse_uint32(trim(inside.substr(comma + 1)));
  if (!seconds || !increment) throw_bad(text, "Timestamp needs two 32-bit numbers");
  return {*seconds, *increment};
}

}  // namespace

Timestamp parse_time_point(std::string_view text) {
  if (text.starts_with("Timestamp(")) return parse_shell_timestamp(text);
  if (text.find('-') != std::string_view::npos) return parse_iso8601(text);
  if (text.empty()) throw_bad(text, "it is empty");
  return parse_seconds_increment(text, text);
}

std::string describe_time_point(Timestamp ts) {
  return iso8601(std::chrono::system_clock::time_point(std::chrono::seconds(ts.seconds))) + " (" + ts.to_string() + ")";
}

}  // namespace shardsafe::oplog

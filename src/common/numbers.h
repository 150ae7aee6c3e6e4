// Numbers read from text someone else wrote (URLs, HTTP headers, XML, command lines): whole or
// refused.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shardsafe {

// The value of `text` when it is a decimal number of 0..2^64-1 and nothing else; nullopt for
// anything else (empty, a sign, spaces, letters, overflow).
inline std::optional<std::uint64_t> parse_uint64(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Seconds in a duration written as a whole number and a unit: "90s", "45m", "12h", "30d",
// "2w"; nullopt for anything else (no unit, another unit, a fraction, overflow).
inline std::optional<std::uint64_t> parse_duration_seconds(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::uint64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    default: return std::nullopt;
  }
  const auto count = parse_uint64(text.substr(0, text.size() - 1));
  if (!count || *count > UINT64_MAX / unit) return std::nullopt;
  return *count * unit;
}

// Bytes in a size written as a whole decimal number and an optional unit: "1048576", "512MiB",
// "1GiB", "64mb". The units are b, and k, m, g, t alone or followed by b or ib, in any case, all
// powers of 1024 (as CLI11's AsSizeValue(false) read them before). nullopt for anything else: a
// sign, a fraction, spaces, hex or octal (which strtoull-based parsers take: "010MiB" as 8 MiB,
// "-1" as 2^64-1), another unit, overflow.
inline std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
  const std::size_t digits = std::min(text.find_first_not_of("0123456789"), text.size());
  std::string unit(text.substr(digits));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  unsigned shift = 0;
  if (!unit.empty() && unit != "b") {
    const auto prefix = std::string_view("kmgt").find(unit.front());
    const std::string_view rest = std::string_view(unit).substr(1);
    if (prefix == std::string_view::npos || !(rest.empty() || rest == "b" || rest == "ib")) return std::nullopt;
    shift = 10 * static_cast<unsigned>(prefix + 1);
  }
  const auto count = parse_uint64(text.substr(0, digits));
  if (!count || *count > (UINT64_MAX >> shift)) return std::nullopt;
  return *count << shift;
}

}  // namespace shardsafe

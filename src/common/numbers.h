// Numbers read from text someone else wrote (URLs, HTTP headers, XML): whole or refused.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
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

}  // namespace shardsafe

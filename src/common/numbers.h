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

}  // namespace shardsafe

// What the libFuzzer targets of shardsafe's own layers share: the input as a Source, and the
// rule that a parser of untrusted bytes may only fail with the Error its contract names.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/error.h"
#include "storage/stream.h"

namespace shardsafe::fuzz {

// The fuzzer's input as a stream. Reads return at most 13 bytes, so every length prefix and
// document straddles reads: the refill paths of stream readers run on every input.
class InputSource : public storage::Source {
 public:
  InputSource(const std::uint8_t* data, std::size_t size) : bytes_(data, size) {}
  std::size_t read(std::span<std::uint8_t> buffer) override {
    const std::size_t n = std::min({buffer.size(), bytes_.size(), std::size_t{13}});
    std::copy_n(bytes_.begin(), n, buffer.begin());
    bytes_ = bytes_.subspan(n);
    return n;
  }

 private:
  std::span<const std::uint8_t> bytes_;
};

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `parse`, accepting the shardsafe::Error with which malformed input is refused. Any other
// exception escapes, and libFuzzer reports it (uncaught, it aborts) as a crash.
template <typename Parse>
void refusing_errors(Parse&& parse) {
  try {
    parse();
  } catch (const Error&) {
  }
}

}  // namespace shardsafe::fuzz

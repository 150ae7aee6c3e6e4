// Numbers in text someone else wrote (common/numbers.h): sizes (`backup --part-size 512MiB`),
// durations (`delete --older-than 30d`), and the plain numbers of URLs and HTTP headers. What a
// parser accepts must be what its value's decimal form reads back as.
#include <stdexcept>
#include <string>

#include "common/numbers.h"
#include "fuzz_support.h"

namespace {

void expect(bool holds, const char* what) {
  if (!holds) throw std::logic_error(what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shardsafe;
  const std::string_view text = fuzz::as_text(data, size);
  if (parse_uint64(text)) {
    expect(!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos,
           "parse_uint64 accepted more than decimal digits");
  }
  if (const auto bytes = parse_byte_size(text)) {
    expect(parse_byte_size(std::to_string(*bytes)) == bytes, "a size's bytes do not read back");
    if (parse_uint64(text)) expect(parse_uint64(text) == bytes, "a size without unit is not its number");
  }
  if (const auto seconds = parse_duration_seconds(text)) {
    expect(parse_duration_seconds(std::to_string(*seconds) + "s") == seconds, "a duration's seconds do not read back");
  }
  return 0;
}

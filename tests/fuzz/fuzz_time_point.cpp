// `restore --to-time T` as a user types it. A point that parses must be described, and its
// exact <seconds>.<increment> form must parse back to the same timestamp.
#include <stdexcept>

#include "fuzz_support.h"
#include "oplog/time_point.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shardsafe;
  std::optional<mongo::Timestamp> point;
  fuzz::refusing_errors([&] { point = oplog::parse_time_point(fuzz::as_text(data, size)); });
  if (!point) return 0;
  oplog::describe_time_point(*point);
  const auto exact = oplog::parse_time_point(std::to_string(point->seconds) + "." + std::to_string(point->increment));
  if (exact.seconds != point->seconds || exact.increment != point->increment) {
    throw std::logic_error("<seconds>.<increment> does not read back");
  }
  return 0;
}

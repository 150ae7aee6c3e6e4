#include "storage/stream.h"

#include <vector>

namespace shardsafe::storage {

std::uint64_t pump(Source& source, Sink& sink, std::size_t chunk_size) {
  std::vector<std::uint8_t> buffer(chunk_size);
  std::uint64_t moved = 0;
  for (;;) {
    const auto got = source.read(buffer);
    if (got == 0) break;
    sink.write(std::span<const std::uint8_t>(buffer.data(), got));
    moved += got;
  }
  sink.finish();
  return moved;
}

}  // namespace shardsafe::storage

// In-memory byte streams for oplog tests: what capture writes, what replay reads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "storage/stream.h"

namespace shardsafe::oplog::testing {

class VectorSink : public storage::Sink {
 public:
  void write(std::span<const std::uint8_t> bytes) override { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }
  void finish() override { finished_ = true; }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }
  bool finished() const { return finished_; }

 private:
  std::vector<std::uint8_t> bytes_;
  bool finished_ = false;
};

// Hands out `bytes` at most `chunk` bytes per read, to exercise short reads.
class ChunkedSource : public storage::Source {
 public:
  explicit ChunkedSource(std::vector<std::uint8_t> bytes, std::size_t chunk = 1 << 16)
      : bytes_(std::move(bytes)), chunk_(chunk) {}
  std::size_t read(std::span<std::uint8_t> buffer) override {
    const std::size_t n = std::min({buffer.size(), chunk_, bytes_.size() - at_});
    std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(at_), n, buffer.begin());
    at_ += n;
    return n;
  }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t chunk_;
  std::size_t at_ = 0;
};

}  // namespace shardsafe::oplog::testing

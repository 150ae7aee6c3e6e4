// Byte streams: the pipes every backup byte flows through.
//
// A Sink consumes bytes, a Source produces them. Filters (compression, encryption, hashing,
// splitting) are Sinks and Sources that wrap another one, so a pipeline is built by nesting:
// cursor -> zstd sink -> encrypt sink -> storage writer. Neither is thread-safe: one thread
// drives a stream at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace shardsafe::storage {

class Sink {
 public:
  virtual ~Sink() = default;
  // Consumes all of `bytes` or throws shardsafe::Error. May buffer.
  virtual void write(std::span<const std::uint8_t> bytes) = 0;
  // Flushes everything buffered downstream and finishes the stream (e.g. writes a compression
  // frame's end). REQUIRES: called at most once; no write() after it.
  virtual void finish() = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Fills up to buffer.size() bytes and returns how many; 0 means the end of the stream.
  // A short read is not the end. Throws shardsafe::Error on failure (a checksum mismatch is
  // reported by the verifying source no later than the read that returns 0).
  virtual std::size_t read(std::span<std::uint8_t> buffer) = 0;
};

// Reads `source` to its end into `sink` in chunks of `chunk_size`, then finishes the sink.
// Returns the number of bytes moved.
std::uint64_t pump(Source& source, Sink& sink, std::size_t chunk_size = 1 << 20);

}  // namespace shardsafe::storage

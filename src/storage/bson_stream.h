// Splits a byte stream of concatenated BSON documents (mongodump's .bson files, oplog.bson,
// archive segments) into whole documents.
//
// Each document starts with its int32 little-endian total length and ends with 0x00. The reader
// checks exactly that (5 <= length <= kMaxDocumentSize, trailing 0x00) and leaves the full
// validation of the contents to whoever needs it (the server does it on insert). Memory is
// bounded: one buffer of `buffer_size` bytes, grown only to hold one document larger than it,
// never beyond kMaxDocumentSize. Documents are handed out as spans into that buffer: no
// allocation per document.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/stream.h"

namespace shardsafe::storage {

// The largest document a dump may hold: 16 MiB plus the 16 KiB of headroom the server allows
// for oplog entries and internal documents (mongorestore accepts the same).
inline constexpr std::size_t kMaxDocumentSize = 16 * 1024 * 1024 + 16 * 1024;
inline constexpr std::size_t kMinDocumentSize = 5;

// Reads the int32 length prefix of a BSON document. REQUIRES: bytes.size() >= 4.
std::uint32_t bson_length_prefix(std::span<const std::uint8_t> bytes);

class BsonStreamReader {
 public:
  static constexpr std::size_t kDefaultBufferSize = 1 << 20;

  // `stream_name` names the stream in errors ("backups/x/rs0/db/c.bson.zst"). `source` must
  // outlive the reader. `first_offset` is where `source` starts in the stream that name means
  // (an archive's documents start after its 4-byte magic), so error offsets are the file's.
  BsonStreamReader(Source& source, std::string stream_name, std::size_t buffer_size = kDefaultBufferSize,
                   std::uint64_t first_offset = 0);

  // The next whole document, valid until the next call; nullopt at the end of the stream.
  // Throws Error(kCorruptData) naming the stream and the byte offset when a length is out of
  // range, a document does not end in 0x00, or the stream ends inside a document.
  std::optional<std::span<const std::uint8_t>> next();

  // When the next 4 bytes are FF FF FF FF (the terminator of mongodump's archive format),
  // consumes them and returns true; otherwise consumes nothing and returns false.
  bool consume_terminator();
  // True when no byte is left.
  bool at_end();

  std::uint64_t documents_read() const { return documents_; }
  // The offset of the next unread byte: first_offset plus the documents returned and the
  // terminators consumed.
  std::uint64_t offset() const { return offset_; }

 private:
  // Makes at least `wanted` unread bytes available; returns false when the source ends first.
  bool fill(std::size_t wanted);
  [[noreturn]] void fail(const std::string& problem) const;

  Source& source_;
  std::string stream_name_;
  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0;  // first unread byte in buffer_
  std::size_t end_ = 0;    // one past the last valid byte in buffer_
  std::uint64_t offset_ = 0;
  std::uint64_t documents_ = 0;
  bool source_done_ = false;
};

}  // namespace shardsafe::storage

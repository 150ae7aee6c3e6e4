// Splits a stream of concatenated BSON documents (an oplog.bson file or slice) into documents.
//
// Private to oplog/: dump/bson_stream.h does the same for dumps, but oplog must not depend on
// dump (dump's restore calls oplog replay). Each document is its int32 little-endian length
// (5..kMaxEntrySize, counting itself) followed by the rest of its bytes; full validation of the
// contents is left to Bson::from_bytes. Memory: one buffer the size of the largest document.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/stream.h"

namespace shardsafe::oplog {

// An oplog entry may exceed 16 MiB by the server's 16 KiB of headroom.
inline constexpr std::size_t kMaxEntrySize = 16 * 1024 * 1024 + 16 * 1024;

class DocumentReader {
 public:
  // `source` must outlive the reader; `stream_name` names it in errors.
  DocumentReader(storage::Source& source, std::string stream_name);
  // The next document, valid until the next call; nullopt at a clean end of the stream.
  // Throws Error(kCorruptData) naming the stream and offset for a bad length or a stream that
  // ends inside a document.
  std::optional<std::span<const std::uint8_t>> next();

 private:
  // Reads exactly `count` bytes into document_ from `at`; returns how many arrived before the end.
  std::size_t read_into(std::size_t at, std::size_t count);
  [[noreturn]] void fail(const std::string& problem) const;

  storage::Source& source_;
  std::string stream_name_;
  std::vector<std::uint8_t> document_;
  std::uint64_t offset_ = 0;  // of the document being read, in the stream
};

}  // namespace shardsafe::oplog

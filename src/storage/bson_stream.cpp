#include "storage/bson_stream.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace shardsafe::storage {

std::uint32_t bson_length_prefix(std::span<const std::uint8_t> bytes) {
  return static_cast<std::uint32_t>(bytes[0]) | static_cast<std::uint32_t>(bytes[1]) << 8 |
         static_cast<std::uint32_t>(bytes[2]) << 16 | static_cast<std::uint32_t>(bytes[3]) << 24;
}

BsonStreamReader::BsonStreamReader(Source& source, std::string stream_name, std::size_t buffer_size,
                                   std::uint64_t first_offset)
    : source_(source),
      stream_name_(std::move(stream_name)),
      buffer_(std::max(buffer_size, kMinDocumentSize)),
      offset_(first_offset) {}

std::optional<std::span<const std::uint8_t>> BsonStreamReader::next() {
  if (!fill(4)) {
    if (end_ == begin_) return std::nullopt;
    fail("the stream ends inside a document's length (" + std::to_string(end_ - begin_) + " trailing bytes)");
  }
  const std::uint32_t length = bson_length_prefix(std::span(buffer_).subspan(begin_, 4));
  if (length < kMinDocumentSize || length > kMaxDocumentSize) {
    fail("invalid document length " + std::to_string(length) + " (must be " + std::to_string(kMinDocumentSize) +
         ".." + std::to_string(kMaxDocumentSize) + ")");
  }
  if (!fill(length)) {
    fail("the stream ends inside a document of " + std::to_string(length) + " bytes (" +
         std::to_string(end_ - begin_) + " present): truncated");
  }
  if (buffer_[begin_ + length - 1] != 0) fail("a document of " + std::to_string(length) + " bytes does not end in 0x00");
  const std::span<const std::uint8_t> document(buffer_.data() + begin_, length);
  begin_ += length;
  offset_ += length;
  ++documents_;
  return document;
}

bool BsonStreamReader::consume_terminator() {
  if (!fill(4) || bson_length_prefix(std::span(buffer_).subspan(begin_, 4)) != 0xFFFFFFFFu) return false;
  begin_ += 4;
  offset_ += 4;
  return true;
}

bool BsonStreamReader::at_end() { return !fill(1); }

bool BsonStreamReader::fill(std::size_t wanted) {
  while (end_ - begin_ < wanted) {
    if (source_done_) return false;
    if (buffer_.size() - begin_ < wanted) {
      // Move the unread tail to the front, and grow only when one document needs more room.
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
      if (buffer_.size() < wanted) buffer_.resize(wanted);
    }
    const std::size_t got = source_.read(std::span(buffer_).subspan(end_));
    if (got == 0) source_done_ = true;
    end_ += got;
  }
  return true;
}

void BsonStreamReader::fail(const std::string& problem) const {
  throw Error(ErrorCode::kCorruptData,
              "corrupt BSON stream \"" + stream_name_ + "\" at byte " + std::to_string(offset_) + ": " + problem);
}

}  // namespace shardsafe::storage

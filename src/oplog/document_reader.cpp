#include "oplog/document_reader.h"

#include "common/error.h"

namespace shardsafe::oplog {

DocumentReader::DocumentReader(storage::Source& source, std::string stream_name)
    : source_(source), stream_name_(std::move(stream_name)) {}

std::size_t DocumentReader::read_into(std::size_t at, std::size_t count) {
  std::size_t done = 0;
  while (done < count) {
    const std::size_t got = source_.read(std::span(document_).subspan(at + done, count - done));
    if (got == 0) break;
    done += got;
  }
  return done;
}

void DocumentReader::fail(const std::string& problem) const {
  throw Error(ErrorCode::kCorruptData,
              "corrupt oplog stream \"" + stream_name_ + "\" at byte " + std::to_string(offset_) + ": " + problem);
}

std::optional<std::span<const std::uint8_t>> DocumentReader::next() {
  document_.resize(4);
  const std::size_t prefix = read_into(0, 4);
  if (prefix == 0) return std::nullopt;
  if (prefix < 4) fail("the stream ends inside a document's length");
  const std::uint32_t length = std::uint32_t{document_[0]} | std::uint32_t{document_[1]} << 8 |
                               std::uint32_t{document_[2]} << 16 | std::uint32_t{document_[3]} << 24;
  if (length < 5 || length > kMaxEntrySize) fail("document length " + std::to_string(length) + " is out of range");
  document_.resize(length);
  if (read_into(4, length - 4) < length - 4) fail("the stream ends inside a document of " + std::to_string(length) + " bytes");
  offset_ += length;
  return std::span<const std::uint8_t>(document_);
}

}  // namespace shardsafe::oplog

#include "oplog/chain_reader.h"

#include "common/error.h"

namespace shardsafe::oplog {

std::vector<OplogSegment> oplog_segments(const catalog::ReplicaSetBackup& set, storage::Storage& storage,
                                         const std::optional<storage::EncryptionKey>& key) {
  const auto opener = [&storage, key](const storage::StoredStream& stream) {
    return [&storage, key, stream] { return storage::read_stream(storage, stream, key); };
  };
  std::vector<OplogSegment> segments;
  if (!set.oplog.parts.empty()) segments.push_back({set.oplog.key, opener(set.oplog), {}, ""});
  for (const auto& slice : set.later_oplog) segments.push_back({slice.oplog.key, opener(slice.oplog), slice.entries, slice.md5});
  return segments;
}

OplogChainReader::OplogChainReader(std::vector<OplogSegment> segments) : segments_(std::move(segments)) {}

OplogChainReader::~OplogChainReader() = default;

bool OplogChainReader::open_next_segment() {
  if (current_ >= segments_.size()) return false;
  reader_.reset();
  source_ = segments_[current_].open();
  reader_ = std::make_unique<storage::BsonStreamReader>(*source_, segments_[current_].name);
  md5_.emplace(storage::DigestAlgorithm::kMd5);
  entries_ = 0;
  return true;
}

void OplogChainReader::check_finished_segment() {
  const OplogSegment& segment = segments_[current_];
  if (segment.entries && entries_ != *segment.entries) {
    throw Error(ErrorCode::kChecksumMismatch, "oplog slice \"" + segment.name + "\" holds " + std::to_string(entries_) +
                                                  " entries, its manifest says " + std::to_string(*segment.entries));
  }
  if (!segment.md5.empty() && md5_->final_hex() != segment.md5) {
    throw Error(ErrorCode::kChecksumMismatch, "oplog slice \"" + segment.name + "\" does not match the MD5 its manifest records");
  }
}

std::optional<std::span<const std::uint8_t>> OplogChainReader::next() {
  for (;;) {
    if (!reader_ && !open_next_segment()) return std::nullopt;
    const auto entry = reader_->next();
    if (!entry) {
      check_finished_segment();
      reader_.reset();
      source_.reset();
      ++current_;
      continue;
    }
    ++entries_;
    md5_->update(*entry);
    bson_t document;
    if (!bson_init_static(&document, entry->data(), entry->size())) {
      throw Error(ErrorCode::kCorruptData, "oplog stream \"" + segments_[current_].name + "\" holds an invalid entry");
    }
    const auto ts = mongo::BsonView(&document).timestamp("ts");
    if (ts && !position_.is_null() && *ts <= position_) continue;
    if (ts) position_ = *ts;
    return entry;
  }
}

}  // namespace shardsafe::oplog

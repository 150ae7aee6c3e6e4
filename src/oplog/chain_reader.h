// Reads a chain of oplog streams as one oplog: a full backup's oplog, then the slices of the
// incremental backups that continue it (point-in-time restore).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catalog/manifest.h"
#include "mongo/bson.h"
#include "storage/bson_stream.h"
#include "storage/hash.h"
#include "storage/pipeline.h"

namespace shardsafe::oplog {

// One stream of a chain.
struct OplogSegment {
  std::string name;  // the stream's key, for errors
  std::function<std::unique_ptr<storage::Source>()> open;
  // Checked when the segment is read to its end: a slice with another count or MD5 of its raw
  // entries is refused (Error(kChecksumMismatch) naming it).
  std::optional<std::uint64_t> entries;
  std::string md5;  // empty: not checked
};

// A set's backup oplog, then the later slices a point-in-time restore adds (later_oplog), each
// read from `storage` (checksummed, decrypted with `key`).
std::vector<OplogSegment> oplog_segments(const catalog::ReplicaSetBackup& set, storage::Storage& storage,
                                         const std::optional<storage::EncryptionKey>& key);

// Yields the entries of `segments` in order. A segment's entries at or before the last entry
// yielded from the segments before it are skipped (a slice may start before a full backup's
// oplog ended: those entries were read already), but still counted and hashed.
class OplogChainReader {
 public:
  explicit OplogChainReader(std::vector<OplogSegment> segments);
  ~OplogChainReader();

  // The next entry, valid until the next call; nullopt after the last segment.
  std::optional<std::span<const std::uint8_t>> next();

 private:
  bool open_next_segment();
  void check_finished_segment();

  std::vector<OplogSegment> segments_;
  std::size_t current_ = 0;
  std::unique_ptr<storage::Source> source_;
  std::unique_ptr<storage::BsonStreamReader> reader_;
  std::optional<storage::Digest> md5_;
  std::uint64_t entries_ = 0;
  mongo::Timestamp position_;
};

}  // namespace shardsafe::oplog

// mongodump's --archive format: every collection of a dump multiplexed into one byte stream.
//
//   archive    = magic header *collection terminator *(segment | eof)
//   magic      = 6D E2 99 81 (uint32 LE 0x8199E26D)          terminator = FF FF FF FF
//   header     = {concurrent_collections: int32, version: "0.1", server_version, tool_version}
//   collection = {db, collection, metadata: <metadata.json text>, size: int32 0, type}
//   segment    = {db, collection, EOF: false, CRC: int64 0} 1*document terminator
//   eof        = {db, collection, EOF: true, CRC: int64 crc} terminator
// A namespace's documents may come in several segments, interleaved with other namespaces'.
// Its EOF block carries the CRC-64/ECMA (Go's crc64.ECMA table, as in crc64.Checksum) of all
// its documents' bytes in order, stored as the int64 of the same bits. Every collection gets an
// EOF block, even without documents (views: restore creates them from it). The oplog, when
// present, is db "" collection "oplog", announced last and written last. A time-series
// collection X is announced as X and its data travels as "system.buckets.X".
// `mongodump --archive --gzip` gzips the whole stream; read_archive() detects that itself.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/stream.h"

namespace shardsafe::dump {

inline constexpr std::uint32_t kArchiveMagic = 0x8199E26D;

// CRC-64/ECMA as Go's hash/crc64 with the ECMA table: reflected polynomial 0xC96C5795D7870F42,
// initial value and final xor ~0. crc64_update(0, "123456789") == 0x995DC9BBDF1939FA; feeding
// the bytes in pieces gives the same result as all at once.
std::uint64_t crc64_update(std::uint64_t crc, std::span<const std::uint8_t> bytes);

struct ArchiveHeader {
  std::int32_t concurrent_collections = 4;
  std::string version = "0.1";
  std::string server_version;
  std::string tool_version;
};

// One entry of the archive's prelude.
struct ArchiveCollection {
  std::string db;
  std::string collection;
  std::string metadata;  // the collection's metadata.json text; empty for the oplog
  std::string type;      // "" for a collection, "view", "timeseries"
};

// The oplog's entry: db "", collection "oplog".
ArchiveCollection archive_oplog_entry();

// Writes an archive to a Sink. Not thread-safe: parallel dumps hand their documents to one
// writer in turn. Namespaces may be interleaved; each switch closes the open segment.
class ArchiveWriter {
 public:
  // Writes the magic, the header, one prelude entry per collection (pass archive_oplog_entry()
  // last when the oplog is included) and the terminator. `sink` must outlive the writer.
  ArchiveWriter(storage::Sink& sink, const ArchiveHeader& header, std::vector<ArchiveCollection> collections);

  // Appends one raw BSON document to namespace db.collection (the data namespace:
  // "system.buckets.X" for time-series X). REQUIRES: the namespace was announced and not ended.
  void write_document(std::string_view db, std::string_view collection, std::span<const std::uint8_t> document);
  // Writes the namespace's EOF block. REQUIRES: announced and not ended.
  void end_namespace(std::string_view db, std::string_view collection);
  // Ends every namespace not ended yet (in prelude order, so the oplog last) and finishes the
  // sink. REQUIRES: called once, last.
  void finish();

 private:
  struct NamespaceState {
    std::uint64_t crc = 0;
    bool ended = false;
  };
  NamespaceState& state_of(std::string_view db, std::string_view collection);
  void close_segment();

  storage::Sink& sink_;
  std::vector<std::pair<std::string, std::string>> data_namespaces_;  // prelude order
  std::map<std::pair<std::string, std::string>, NamespaceState, std::less<>> states_;
  std::pair<std::string, std::string> open_segment_;
  bool segment_open_ = false;
};

// What read_archive() reports, in stream order. Every method but on_document has a no-op default.
class ArchiveHandler {
 public:
  virtual ~ArchiveHandler() = default;
  virtual void on_header(const ArchiveHeader& header) { (void)header; }
  virtual void on_collection(const ArchiveCollection& collection) { (void)collection; }
  // `document` is valid during the call only.
  virtual void on_document(const std::string& db, const std::string& collection,
                           std::span<const std::uint8_t> document) = 0;
  // The namespace's EOF block arrived and its CRC matched.
  virtual void on_namespace_end(const std::string& db, const std::string& collection) {
    (void)db;
    (void)collection;
  }
};

// Reads a plain or gzipped archive from `source`; `name` names it in errors. Throws
// Error(kCorruptData) naming the archive and the byte offset for a bad magic, a malformed
// block, two terminators in a row, documents of a namespace the prelude did not announce, or a
// stream that ends before every announced namespace's EOF; Error(kChecksumMismatch) naming the
// namespace when its CRC differs.
void read_archive(storage::Source& source, const std::string& name, ArchiveHandler& handler);

}  // namespace shardsafe::dump

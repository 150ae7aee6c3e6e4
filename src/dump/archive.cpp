#include "dump/archive.h"

#include <array>
#include <cstring>
#include <memory>

#include "common/error.h"
#include "storage/bson_stream.h"
#include "mongo/bson.h"
#include "storage/compress.h"

namespace shardsafe::dump {
namespace {

constexpr std::array<std::uint8_t, 4> kTerminator = {0xFF, 0xFF, 0xFF, 0xFF};
constexpr std::uint64_t kEcmaReflected = 0xC96C5795D7870F42ull;

constexpr std::array<std::uint64_t, 256> make_crc64_table() {
  std::array<std::uint64_t, 256> table{};
  for (std::uint64_t i = 0; i < 256; ++i) {
    std::uint64_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ kEcmaReflected : crc >> 1;
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrc64Table = make_crc64_table();

std::string namespace_name(std::string_view db, std::string_view collection) {
  return std::string(db) + "." + std::string(collection);
}

// The namespace a prelude entry's documents travel under.
std::pair<std::string, std::string> data_namespace(const ArchiveCollection& entry) {
  if (entry.type == "timeseries") return {entry.db, "system.buckets." + entry.collection};
  return {entry.db, entry.collection};
}

void write_bson(storage::Sink& sink, const mongo::Bson& document) { sink.write(document.bytes()); }

// Gives back bytes already read from `inner`, then the rest of `inner`: lets read_archive()
// look at the first bytes to tell gzip from a plain archive.
class ReplaySource : public storage::Source {
 public:
  ReplaySource(std::vector<std::uint8_t> prefix, storage::Source& inner) : prefix_(std::move(prefix)), inner_(inner) {}
  std::size_t read(std::span<std::uint8_t> buffer) override {
    if (position_ < prefix_.size()) {
      const std::size_t n = std::min(buffer.size(), prefix_.size() - position_);
      std::memcpy(buffer.data(), prefix_.data() + position_, n);
      position_ += n;
      return n;
    }
    return inner_.read(buffer);
  }

 private:
  std::vector<std::uint8_t> prefix_;
  std::size_t position_ = 0;
  storage::Source& inner_;
};

std::vector<std::uint8_t> read_up_to(storage::Source& source, std::size_t wanted) {
  std::vector<std::uint8_t> out(wanted);
  std::size_t filled = 0;
  while (filled < wanted) {
    const std::size_t n = source.read(std::span(out).subspan(filled));
    if (n == 0) break;
    filled += n;
  }
  out.resize(filled);
  return out;
}

// Parses the archive after its magic, holding the per-namespace state the format needs.
class ArchiveParser {
 public:
  ArchiveParser(storage::Source& source, const std::string& name, ArchiveHandler& handler)
      : name_(name),
        reader_(source, name, storage::BsonStreamReader::kDefaultBufferSize, sizeof kArchiveMagic),
        handler_(handler) {}

  void run() {
    handler_.on_header(read_header());
    read_prelude();
    while (!reader_.at_end()) read_block();
    for (const auto& [ns, state] : namespaces_) {
      if (!state.ended) fail("the archive ends before namespace \"" + namespace_name(ns.first, ns.second) + "\" ends: truncated");
    }
  }

 private:
  struct NamespaceState {
    std::uint64_t crc = 0;
    bool ended = false;
  };

  mongo::Bson next_block(const char* what) {
    const auto bytes = reader_.next();
    if (!bytes) fail(std::string("the archive ends before ") + what + ": truncated");
    try {
      return mongo::Bson::from_bytes(*bytes);
    } catch (const Error&) {
      fail(std::string("invalid BSON in ") + what);
    }
  }

  ArchiveHeader read_header() {
    const mongo::Bson block = next_block("its header");
    const mongo::BsonView view(block);
    ArchiveHeader header;
    header.concurrent_collections = static_cast<std::int32_t>(view.integer("concurrent_collections").value_or(0));
    header.version = view.string("version").value_or("");
    header.server_version = view.string("server_version").value_or("");
    header.tool_version = view.string("tool_version").value_or("");
    return header;
  }

  void read_prelude() {
    while (!reader_.consume_terminator()) {
      const mongo::Bson block = next_block("the end of its collection list");
      const mongo::BsonView view(block);
      ArchiveCollection entry;
      const auto db = view.string("db");
      const auto collection = view.string("collection");
      if (!db || !collection) fail("a collection entry without \"db\" and \"collection\" strings");
      entry.db = *db;
      entry.collection = *collection;
      entry.metadata = view.string("metadata").value_or("");
      entry.type = view.string("type").value_or("");
      namespaces_[data_namespace(entry)];
      handler_.on_collection(entry);
    }
  }

  void read_block() {
    if (reader_.consume_terminator()) fail("two terminators in a row");
    const mongo::Bson block = next_block("a namespace header");
    const mongo::BsonView view(block);
    const auto db = view.string("db");
    const auto collection = view.string("collection");
    if (!db || !collection) fail("a namespace header without \"db\" and \"collection\" strings");
    const auto it = namespaces_.find({*db, *collection});
    const std::string ns = namespace_name(*db, *collection);
    if (it == namespaces_.end()) fail("namespace \"" + ns + "\" is not in the archive's collection list");
    if (it->second.ended) fail("namespace \"" + ns + "\" continues after its end");
    if (view.boolean("EOF").value_or(false)) {
      end_namespace(*db, *collection, it->second, view.integer("CRC").value_or(0));
    } else {
      read_segment(*db, *collection, it->second);
    }
  }

  void read_segment(const std::string& db, const std::string& collection, NamespaceState& state) {
    while (!reader_.consume_terminator()) {
      const auto document = reader_.next();
      if (!document) fail("the archive ends inside a segment of \"" + namespace_name(db, collection) + "\": truncated");
      state.crc = crc64_update(state.crc, *document);
      handler_.on_document(db, collection, *document);
    }
  }

  void end_namespace(const std::string& db, const std::string& collection, NamespaceState& state, std::int64_t recorded) {
    if (static_cast<std::uint64_t>(recorded) != state.crc) {
      throw Error(ErrorCode::kChecksumMismatch, "archive \"" + name_ + "\": the documents of namespace \"" +
                                                    namespace_name(db, collection) + "\" do not match their CRC-64");
    }
    if (!reader_.consume_terminator()) fail("no terminator after the end of \"" + namespace_name(db, collection) + "\"");
    state.ended = true;
    handler_.on_namespace_end(db, collection);
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(ErrorCode::kCorruptData, "corrupt archive \"" + name_ + "\" at byte " +
                                             std::to_string(reader_.offset()) + ": " + problem);
  }

  const std::string& name_;
  storage::BsonStreamReader reader_;
  ArchiveHandler& handler_;
  std::map<std::pair<std::string, std::string>, NamespaceState> namespaces_;
};

}  // namespace

std::uint64_t crc64_update(std::uint64_t crc, std::span<const std::uint8_t> bytes) {
  crc = ~crc;
  for (const std::uint8_t byte : bytes) crc = kCrc64Table[static_cast<std::uint8_t>(crc) ^ byte] ^ (crc >> 8);
  return ~crc;
}

ArchiveCollection archive_oplog_entry() { return {"", "oplog", "", ""}; }

ArchiveWriter::ArchiveWriter(storage::Sink& sink, const ArchiveHeader& header, std::vector<ArchiveCollection> collections)
    : sink_(sink) {
  const std::uint32_t magic = kArchiveMagic;
  const std::array<std::uint8_t, 4> magic_bytes = {static_cast<std::uint8_t>(magic), static_cast<std::uint8_t>(magic >> 8),
                                                   static_cast<std::uint8_t>(magic >> 16), static_cast<std::uint8_t>(magic >> 24)};
  sink_.write(magic_bytes);
  write_bson(sink_, mongo::BsonBuilder()
                        .append("concurrent_collections", header.concurrent_collections)
                        .append("version", header.version)
                        .append("server_version", header.server_version)
                        .append("tool_version", header.tool_version)
                        .build());
  for (const auto& entry : collections) {
    write_bson(sink_, mongo::BsonBuilder()
                          .append("db", entry.db)
                          .append("collection", entry.collection)
                          .append("metadata", entry.metadata)
                          .append("size", std::int32_t{0})
                          .append("type", entry.type)
                          .build());
    auto ns = data_namespace(entry);
    states_[ns];
    data_namespaces_.push_back(std::move(ns));
  }
  sink_.write(kTerminator);
}

ArchiveWriter::NamespaceState& ArchiveWriter::state_of(std::string_view db, std::string_view collection) {
  const auto it = states_.find(std::pair{std::string(db), std::string(collection)});
  if (it == states_.end() || it->second.ended) {
    throw Error(ErrorCode::kInternal, "archive namespace \"" + namespace_name(db, collection) + "\" " +
                                          (it == states_.end() ? "was not announced" : "has already ended"));
  }
  return it->second;
}

void ArchiveWriter::close_segment() {
  if (!segment_open_) return;
  sink_.write(kTerminator);
  segment_open_ = false;
}

void ArchiveWriter::write_document(std::string_view db, std::string_view collection, std::span<const std::uint8_t> document) {
  NamespaceState& state = state_of(db, collection);
  if (!segment_open_ || open_segment_.first != db || open_segment_.second != collection) {
    close_segment();
    write_bson(sink_, mongo::BsonBuilder()
                          .append("db", db)
                          .append("collection", collection)
                          .append("EOF", false)
                          .append("CRC", std::int64_t{0})
                          .build());
    open_segment_ = {std::string(db), std::string(collection)};
    segment_open_ = true;
  }
  sink_.write(document);
  state.crc = crc64_update(state.crc, document);
}

void ArchiveWriter::end_namespace(std::string_view db, std::string_view collection) {
  NamespaceState& state = state_of(db, collection);
  close_segment();
  write_bson(sink_, mongo::BsonBuilder()
                        .append("db", db)
                        .append("collection", collection)
                        .append("EOF", true)
                        .append("CRC", static_cast<std::int64_t>(state.crc))
                        .build());
  sink_.write(kTerminator);
  state.ended = true;
}

void ArchiveWriter::finish() {
  close_segment();
  for (const auto& [db, collection] : data_namespaces_) {
    if (!states_.at({db, collection}).ended) end_namespace(db, collection);
  }
  sink_.finish();
}

void read_archive(storage::Source& source, const std::string& name, ArchiveHandler& handler) {
  std::vector<std::uint8_t> first = read_up_to(source, sizeof kArchiveMagic);
  std::unique_ptr<storage::Source> gunzip;
  std::unique_ptr<ReplaySource> replay;
  storage::Source* body = &source;
  if (first.size() >= 2 && first[0] == 0x1F && first[1] == 0x8B) {
    replay = std::make_unique<ReplaySource>(std::move(first), source);
    gunzip = storage::make_decompress_source(storage::Compression::kGzip, *replay, name);
    body = gunzip.get();
    first = read_up_to(*body, sizeof kArchiveMagic);
  }
  if (first.size() != sizeof kArchiveMagic || storage::bson_length_prefix(first) != kArchiveMagic) {
    throw Error(ErrorCode::kCorruptData, "\"" + name + "\" is not a mongodump archive: it does not start with the archive magic number");
  }
  ArchiveParser(*body, name, handler).run();
}

}  // namespace shardsafe::dump

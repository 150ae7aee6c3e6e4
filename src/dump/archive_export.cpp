#include "dump/archive_export.h"

#include <map>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/error.h"
#include "dump/archive.h"
#include "storage/bson_stream.h"
#include "dump/metadata.h"
#include "dump/names.h"
#include "mongo/bson.h"
#include "storage/compress.h"
#include "storage/open.h"
#include "version.h"

namespace shardsafe::dump {
namespace {

std::string read_text(storage::Source& source) {
  std::string out;
  std::uint8_t buffer[1 << 14];
  while (const std::size_t n = source.read(buffer)) out.append(reinterpret_cast<const char*>(buffer), n);
  return out;
}

// The optime just before `ts`: the exclusive start of an oplog range that begins at `ts`.
mongo::Timestamp just_before(mongo::Timestamp ts) {
  if (ts.increment > 0) return {ts.seconds, ts.increment - 1};
  return {ts.seconds - 1, UINT32_MAX};
}

// Collects what an import stores and commits it as one backup. An import that fails before
// its commit leaves nothing behind: the objects stored so far are removed with the backup.
class ImportedBackup {
 public:
  ImportedBackup(storage::Storage& storage, const ImportOptions& options) : storage_(storage), options_(options) {
    manifest_.id = catalog_.new_backup_id(std::chrono::system_clock::now());
    manifest_.started_at = iso8601_now();
    manifest_.compression = options.stream.compression;
    manifest_.encryption_key_id = options.stream.encryption ? options.stream.encryption->id : "";
    manifest_.tool_version = kVersion;
    set_.name = options.replica_set;
    set_.source_host = "import";
  }

  ~ImportedBackup() {
    if (!committed_) catalog::remove_partial_backup(storage_, catalog::Catalog::backup_prefix(manifest_.id));
  }
  ImportedBackup(const ImportedBackup&) = delete;
  ImportedBackup& operator=(const ImportedBackup&) = delete;

  std::string prefix() const { return catalog::Catalog::backup_prefix(manifest_.id) + set_.name + "/"; }

  std::unique_ptr<storage::StreamWriter> writer(const std::string& key) {
    return storage::write_stream(storage_, key, options_.stream);
  }

  void add_collection(catalog::CollectionEntry entry) { set_.collections.push_back(std::move(entry)); }

  // Stores metadata.json text for db.collection and returns the entry to fill with data.
  catalog::CollectionEntry collection_with_metadata(const std::string& db, const std::string& collection,
                                                    const std::string& metadata_json) {
    catalog::CollectionEntry entry;
    entry.db = db;
    entry.name = collection;
    const auto metadata = parse_metadata_json(metadata_json, db + "." + collection);
    entry.type = metadata.type.empty() ? "collection" : metadata.type;
    auto metadata_writer = writer(collection_metadata_key(prefix(), db, collection));
    metadata_writer->write({reinterpret_cast<const std::uint8_t*>(metadata_json.data()), metadata_json.size()});
    entry.metadata = metadata_writer->commit();
    return entry;
  }

  // Copies a stream of BSON documents into storage, counting them; for the oplog, also notes
  // the first and last ts.
  storage::StoredStream copy_documents(storage::Source& source, const std::string& origin, const std::string& key,
                                       std::uint64_t& documents, std::uint64_t& bytes, bool is_oplog) {
    auto out = writer(key);
    storage::BsonStreamReader reader(source, origin);
    while (auto document = reader.next()) {
      out->write(*document);
      documents++;
      bytes += document->size();
      if (is_oplog) note_oplog_entry(*document, documents == 1);
    }
    return out->commit();
  }

  void note_oplog_entry(std::span<const std::uint8_t> entry, bool first) {
    const auto ts = mongo::BsonView(mongo::Bson::from_bytes(entry)).timestamp("ts");
    if (!ts) throw Error(ErrorCode::kCorruptData, "an oplog entry of the imported dump has no ts");
    if (first) set_.start_optime = just_before(*ts);
    set_.end_optime = *ts;
  }

  void set_oplog(storage::StoredStream oplog, std::uint64_t entries) {
    set_.oplog = std::move(oplog);
    set_.oplog_entries = entries;
  }
  void set_server_version(std::string version) { set_.server_version = std::move(version); }

  catalog::Manifest commit() {
    if (set_.collections.empty() && set_.oplog_entries == 0) {
      throw Error(ErrorCode::kInvalidArgument, "the dump to import holds no collections");
    }
    manifest_.consistency_point = set_.end_optime;
    manifest_.replica_sets = {set_};
    manifest_.finished_at = iso8601_now();
    catalog_.commit(manifest_);
    committed_ = true;
    return manifest_;
  }

 private:
  storage::Storage& storage_;
  const ImportOptions& options_;
  catalog::Catalog catalog_{storage_};
  catalog::Manifest manifest_;
  catalog::ReplicaSetBackup set_;
  bool committed_ = false;
};

// Streams one archive namespace at a time into storage (mongodump interleaves only a few).
class ArchiveImporter : public ArchiveHandler {
 public:
  explicit ArchiveImporter(ImportedBackup& backup) : backup_(backup) {}

  void on_header(const ArchiveHeader& header) override { backup_.set_server_version(header.server_version); }
  void on_collection(const ArchiveCollection& collection) override {
    announced_[{collection.db, collection.collection}] = collection;
  }
  void on_document(const std::string& db, const std::string& collection, std::span<const std::uint8_t> document) override {
    auto& open = open_namespace(db, collection);
    open.writer->write(document);
    open.documents++;
    open.bytes += document.size();
    if (db.empty()) backup_.note_oplog_entry(document, open.documents == 1);
  }
  void on_namespace_end(const std::string& db, const std::string& collection) override {
    if (db.empty()) {  // the oplog
      if (auto it = open_.find({db, collection}); it != open_.end()) {
        backup_.set_oplog(it->second.writer->commit(), it->second.documents);
        open_.erase(it);
      }
      return;
    }
    const std::string announced_name = collection.starts_with("system.buckets.") ? collection.substr(15) : collection;
    const auto& metadata = announced_.at({db, announced_name}).metadata;
    auto entry = backup_.collection_with_metadata(db, announced_name, metadata);
    if (auto it = open_.find({db, collection}); it != open_.end()) {
      entry.data = it->second.writer->commit();
      entry.documents = it->second.documents;
      entry.bytes = it->second.bytes;
      open_.erase(it);
    }
    backup_.add_collection(std::move(entry));
  }

 private:
  struct OpenNamespace {
    std::unique_ptr<storage::StreamWriter> writer;
    std::uint64_t documents = 0;
    std::uint64_t bytes = 0;
  };
  OpenNamespace& open_namespace(const std::string& db, const std::string& collection) {
    auto [it, inserted] = open_.try_emplace({db, collection});
    if (inserted) {
      const std::string key = db.empty() ? oplog_key(backup_.prefix()) : collection_data_key(backup_.prefix(), db, collection);
      it->second.writer = backup_.writer(key);
    }
    return it->second;
  }

  ImportedBackup& backup_;
  std::map<std::pair<std::string, std::string>, ArchiveCollection> announced_;
  std::map<std::pair<std::string, std::string>, OpenNamespace> open_;
};

storage::Compression compression_of(const std::string& suffix) {
  return suffix == ".gz" ? storage::Compression::kGzip
         : suffix == ".zst" ? storage::Compression::kZstd
                            : storage::Compression::kNone;
}

bool starts_with_gzip_magic(storage::Storage& storage, const std::string& key) {
  std::uint8_t magic[2] = {};
  auto head = storage.open(key, 0, 2);
  return head->read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

}  // namespace

std::uint64_t export_archive(storage::Storage& storage, const catalog::ReplicaSetBackup& set,
                             const std::optional<storage::EncryptionKey>& key, storage::Sink& sink) {
  std::vector<ArchiveCollection> prelude;
  for (const auto& entry : set.collections) {
    auto metadata = storage::read_stream(storage, entry.metadata, key);
    prelude.push_back({entry.db, entry.name, read_text(*metadata), entry.type == "collection" ? "" : entry.type});
  }
  if (!set.oplog.parts.empty()) prelude.push_back(archive_oplog_entry());
  ArchiveWriter writer(sink, ArchiveHeader{4, "0.1", set.server_version, kVersion}, prelude);
  std::uint64_t documents = 0;
  auto copy = [&](const storage::StoredStream& stream, const std::string& db, const std::string& collection) {
    auto source = storage::read_stream(storage, stream, key);
    storage::BsonStreamReader reader(*source, stream.key);
    while (auto document = reader.next()) {
      writer.write_document(db, collection, *document);
      documents++;
    }
    writer.end_namespace(db, collection);
  };
  for (const auto& entry : set.collections) {
    if (entry.data.parts.empty()) {
      writer.end_namespace(entry.db, entry.name);
    } else {
      copy(entry.data, entry.db, entry.name);
    }
  }
  if (!set.oplog.parts.empty()) copy(set.oplog, "", "oplog");
  writer.finish();
  return documents;
}

catalog::Manifest import_dump_directory(const std::filesystem::path& directory, storage::Storage& storage,
                                        const ImportOptions& options) {
  auto local = storage::open_storage("file://" + std::filesystem::absolute(directory).string());
  ImportedBackup backup(storage, options);
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> files;  // ns -> (metadata, data)
  for (const auto& object : storage::list_all(*local, "")) {
    if (object.key == "oplog.bson" || object.key == "oplog.bson.gz") {
      // mongodump --gzip gzips oplog.bson without renaming it: look at the bytes, not the name.
      auto raw = local->open(object.key);
      const auto compression = starts_with_gzip_magic(*local, object.key) ? storage::Compression::kGzip : storage::Compression::kNone;
      auto source = storage::make_decompress_source(compression, *raw, object.key);
      std::uint64_t entries = 0, bytes = 0;
      auto oplog = backup.copy_documents(source ? *source : *raw, object.key, oplog_key(backup.prefix()), entries, bytes, true);
      backup.set_oplog(std::move(oplog), entries);
      continue;
    }
    const auto file = parse_dump_file(object.key);
    if (!file) continue;  // prelude.json and anything else that is not a collection's file
    auto& [metadata, data] = files[{file->db, file->collection}];
    (file->kind == DumpFile::Kind::kMetadata ? metadata : data) = object.key;
  }
  if (files.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "\"" + directory.string() + "\" holds no mongodump files (<db>/<coll>.bson)");
  }
  for (const auto& [ns, paths] : files) {
    const auto& [metadata_path, data_path] = paths;
    auto read_file = [&](const std::string& path) {
      auto raw = local->open(path);
      const auto suffix = path.ends_with(".gz") ? ".gz" : path.ends_with(".zst") ? ".zst" : "";
      return std::pair{std::move(raw), storage::make_decompress_source(compression_of(suffix), *raw, path)};
    };
    std::string metadata_json = R"({"indexes":[]})";
    if (!metadata_path.empty()) {
      auto [raw, decompressed] = read_file(metadata_path);
      metadata_json = read_text(decompressed ? *decompressed : *raw);
    }
    auto entry = backup.collection_with_metadata(ns.first, ns.second, metadata_json);
    if (!data_path.empty()) {
      auto [raw, decompressed] = read_file(data_path);
      entry.data = backup.copy_documents(decompressed ? *decompressed : *raw, data_path,
                                         collection_data_key(backup.prefix(), ns.first, ns.second), entry.documents,
                                         entry.bytes, false);
    }
    backup.add_collection(std::move(entry));
  }
  return backup.commit();
}

catalog::Manifest import_archive(storage::Source& archive, const std::string& name, storage::Storage& storage,
                                 const ImportOptions& options) {
  ImportedBackup backup(storage, options);
  ArchiveImporter importer(backup);
  read_archive(archive, name, importer);
  return backup.commit();
}

}  // namespace shardsafe::dump

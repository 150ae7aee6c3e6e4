// Moving dumps in and out of shardsafe in mongodump's own formats.
//
// export: a backup's replica set written as one mongodump --archive stream, which stock
//         `mongorestore --archive` reads.
// import: a dump shardsafe did not write (a mongodump directory tree, plain or --gzip, or an
//         --archive file) stored as a shardsafe backup: every collection goes through the
//         pipeline (compression, encryption, SHA-256) and a manifest is committed, so it is
//         listed, verified and restored like any other backup.
#pragma once

#include <filesystem>
#include <string>

#include "catalog/manifest.h"
#include "storage/pipeline.h"
#include "storage/storage.h"

namespace shardsafe::dump {

// Writes `set` of a backup to `sink` in --archive format (documents verified as read) and
// finishes the sink. Returns the number of documents written.
std::uint64_t export_archive(storage::Storage& storage, const catalog::ReplicaSetBackup& set,
                             const std::optional<storage::EncryptionKey>& key, storage::Sink& sink);

struct ImportOptions {
  std::string replica_set = "imported";  // the name the backup records for the dump's set
  storage::StreamOptions stream;
};

// Imports a mongodump directory tree (`<db>/<coll>.bson[.gz]`, `.metadata.json[.gz]`,
// optional `oplog.bson`) as a new backup; returns its committed manifest.
// Error(kInvalidArgument) when the folder holds no dump files.
catalog::Manifest import_dump_directory(const std::filesystem::path& directory, storage::Storage& storage,
                                        const ImportOptions& options);

// Imports a mongodump --archive stream (plain or gzipped) as a new backup.
catalog::Manifest import_archive(storage::Source& archive, const std::string& name, storage::Storage& storage,
                                 const ImportOptions& options);

}  // namespace shardsafe::dump

// The manifest: the record of one backup, and its commit point.
//
// A backup exists when, and only when, `backups/<id>/manifest.json` exists: every data object
// is written first, the manifest last. The manifest lists every stored object with its size and
// SHA-256 (via storage::StoredStream), per replica set the optimes that make the backup
// consistent, and the versions that wrote it. Its format is versioned: readers reject versions
// they do not know (kUnsupportedVersion) rather than misread them. The on-storage JSON format is
// documented in catalog/README.md next to the code that writes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mongo/bson.h"
#include "storage/pipeline.h"

namespace shardsafe::catalog {

// Version 2 added incremental backups (kind, base, oplog_md5, source_oldest_optime); version 1
// manifests (full backups only) are still read.
inline constexpr int kManifestFormatVersion = 2;
inline constexpr int kOldestReadableManifestVersion = 1;

// One collection or view of a dump: mongodump's <db>/<coll>.bson and <db>/<coll>.metadata.json.
struct CollectionEntry {
  std::string db;
  std::string name;
  std::string type = "collection";  // "collection", "view" or "timeseries"
  storage::StoredStream data;       // the concatenated BSON documents (no parts for a view)
  storage::StoredStream metadata;   // the metadata.json mongodump would write
  std::uint64_t documents = 0;
  std::uint64_t bytes = 0;          // raw BSON bytes before compression
};

// A slice of a later incremental backup, as a point-in-time restore replays it.
struct LaterSlice {
  storage::StoredStream oplog;
  std::uint64_t entries = 0;
  std::string md5;  // of the raw entries
};

// What one replica set (a shard, the config server, or a plain replica set) contributed.
struct ReplicaSetBackup {
  std::string name;                   // the replica set name ("rs0", "configRS")
  std::string shard;                  // shard id in a sharded cluster, empty otherwise
  std::string source_host;            // the member the dump was read from
  std::string server_version;
  mongo::Timestamp start_optime;      // newest oplog entry before the dump started
  mongo::Timestamp end_optime;        // the set's oplog is captured up to here (inclusive)
  std::vector<CollectionEntry> collections;
  storage::StoredStream oplog;        // oplog entries (start_optime, end_optime], mongodump's oplog.bson
  std::uint64_t oplog_entries = 0;
  // Incremental backups: `oplog` is the slice "oplog/<name>/<start>-<end>.bson" (oplog/slice.h),
  // `collections` is empty.
  std::string oplog_md5;              // MD5 of the slice's raw entries (before compression)
  // The source's oldest oplog entry after the slice was read: at or before start_optime proves
  // the oplog had not rolled over, so no entry of the range was lost.
  mongo::Timestamp source_oldest_optime;
  // Point-in-time restore only, never stored in a manifest: the slices of later increments,
  // in chain order, replayed after `oplog` (entries up to end_optime are skipped, as `oplog`
  // already held them).
  std::vector<LaterSlice> later_oplog;
};

struct Manifest {
  int format_version = kManifestFormatVersion;
  std::string id;                     // sorts by time: "2026-11-25T22-10-00Z"
  std::string kind = "full";          // "full" or "incremental" (one oplog slice per replica set)
  // An incremental backup's predecessor in its chain (a full or an incremental backup): each
  // set's slice starts where the base's ended.
  std::string base;
  std::string topology = "replset";   // "replset" or "sharded"
  std::string started_at;             // ISO 8601 UTC
  std::string finished_at;
  // Restoring every set's dump and replaying its oplog up to here puts the whole deployment at
  // one point in time.
  mongo::Timestamp consistency_point;
  storage::Compression compression = storage::Compression::kZstd;
  std::string encryption_key_id;      // empty when not encrypted
  std::string tool_version;
  std::vector<ReplicaSetBackup> replica_sets;

  std::uint64_t total_documents() const;
  std::uint64_t total_raw_bytes() const;     // before compression
  std::uint64_t total_stored_bytes() const;  // in storage, manifest excluded
};

}  // namespace shardsafe::catalog

// The job kinds: one replica set's part of a backup or of a restore. The same code runs in
// an agent and in-process; only where storage comes from differs (StorageProvider).
//
// "backup" params:
//   uri          the replica set (seed list, replicaSet=..., credentials)
//   member       "host:port" to read from (the agent's own node); empty: dump.read_preference
//   shard        the shard id ("" for a plain replica set, "config" for the config server)
//   backup_id, prefix ("backups/<id>/"; the set's files go under <prefix><set name>/)
//   dump         {parallel, read_preference, compression, compression_level, compression_threads, part_size}
//   key          the encryption key as hex (optional)    storage  {url, settings} (agent mode)
// It dumps every collection, then awaits {"up_to": {t, i}} after reporting
// {"replica_set", "dump_end": {t, i}}, captures the oplog up to there and returns
// {"replica_set_backup": <the manifest's replica set entry>}.
//
// "increment" params (a slice of an incremental backup, see oplog/slice.h):
//   uri, member, shard, backup_id, key, storage, dump (compression and part_size are used),
//   after {t, i} (where the chain's previous backup ended on this set), timeout_s
// It checks the oplog still holds `after`, reports {"replica_set", "newest": {t, i}} (past
// `after`: an idle set gets a no-op), awaits {"up_to": {t, i}}, captures (after, up_to] to
// "oplog/<set>/<after>-<up_to>.bson..." and returns {"replica_set_backup": <its entry>} with
// the slice's entries, MD5 and the source's oldest optime after the read.
//
// "restore" params:
//   uri, backup_id, set (<the manifest's replica set entry>), key, storage, and options:
//   {drop, keep_previous, parallel, insertion_workers, preserve_uuids, replay_oplog,
//    up_to: {t, i}, ns_include/ns_exclude/ns_from/ns_to: [...], collection_uuids: {ns: uuid},
//    also_set_aside: [ns...]}
// It checks the target, sets aside what it replaces, restores and replays, then awaits
// {"commit": true|false} after reporting {"replica_set", "collections", "documents"}: true
// drops what was set aside (unless keep_previous), false rolls back. Any failure rolls back.
// It returns the restore summary.
#pragma once

#include <functional>
#include <memory>

#include "agent/job_runner.h"
#include "dump/restorer.h"
#include "mongo/bson.h"
#include "storage/pipeline.h"
#include "storage/storage.h"

namespace shardsafe::agent {

// The storage a job reads or writes, from its params.
using StorageProvider = std::function<std::shared_ptr<storage::Storage>(const nlohmann::json& params)>;

// Opens params["storage"] ({url, settings}): what an agent does.
std::shared_ptr<storage::Storage> open_storage_from_params(const nlohmann::json& params);

JobKinds replica_set_job_kinds(StorageProvider storage);

// Parameter helpers shared with the coordinator, which builds the params.
// The "options" of a restore job; `options.map_namespace` and `options.key` are not carried
// (namespaces travel as patterns, the key in the common params).
nlohmann::json restore_options_json(const dump::RestoreOptions& options, const std::vector<std::string>& ns_include,
                                    const std::vector<std::string>& ns_exclude, const std::vector<std::string>& ns_from,
                                    const std::vector<std::string>& ns_to);
nlohmann::json restore_summary_json(const dump::RestoreSummary& summary);
dump::RestoreSummary restore_summary_from_json(const nlohmann::json& value);
nlohmann::json timestamp_json(const mongo::Timestamp& ts);
mongo::Timestamp timestamp_from(const nlohmann::json& value);
std::string key_hex(const std::optional<storage::EncryptionKey>& key);

}  // namespace shardsafe::agent

// What mongorestore --oplogReplay leaves out of a replay, and which commands it knows.
//
// These are mongorestore's rules (mongo-tools mongorestore/oplog.go), kept in one place so the
// replayer reads as "skip what mongorestore skips, send the rest".
#pragma once

#include <string>
#include <string_view>

#include "oplog/entry.h"

namespace shardsafe::oplog {

// Operation types that never reach the target: no-ops (n) and the legacy cd/ci/cu/km types.
bool is_skipped_op_type(std::string_view op);

// Namespaces a replay must not touch: "__mdb_internal*" databases and every config.<c> whose
// <c> is not one of chunks, collections, databases, settings, shards, tags, version (so
// config.system.sessions and config.transactions are skipped).
bool is_ignored_namespace(std::string_view ns);

// Commands recorded for the server's own bookkeeping, skipped by mongorestore:
// startIndexBuild, abortIndexBuild, setMultikeyMetadata, dropIdent (and dbCheck, a health-check
// record with no effect on data).
bool is_skipped_command(std::string_view name);

// Commands replay knows how to handle (sent, rewritten or deferred). Anything else is an error:
// silently dropping a command we do not understand could leave the restore wrong.
bool is_known_command(std::string_view name);

// The namespace an entry acts on, which filters are applied to: `ns` for CRUD entries; for a
// command, "<db>.<coll>" when its first value names a collection (create, drop, collMod,
// createIndexes, ...), the source namespace of renameCollection, and `ns` ("db.$cmd") otherwise
// (dropDatabase).
std::string target_namespace(const OplogEntry& entry);

}  // namespace shardsafe::oplog

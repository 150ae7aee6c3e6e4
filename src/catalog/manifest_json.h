// The manifest's on-storage form: JSON, versioned and checksummed. The format is documented
// field by field in catalog/README.md.
//
// The "checksum" field is the lowercase hex SHA-256 of the manifest's canonical form: the JSON
// object without "checksum", serialized compactly with keys sorted (bytewise), as
//   python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("checksum");
//               print(json.dumps(d, sort_keys=True, separators=(",",":"), ensure_ascii=False))'
// prints it. Whitespace and key order in the file therefore do not matter; every value does.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "catalog/manifest.h"

namespace shardsafe::catalog {

// The manifest.json text: pretty-printed, fields in the documented order, "checksum" last.
std::string manifest_to_json(const Manifest& manifest);

// Parses manifest.json text. `backup_id` names the backup in errors (the caller knows it from
// the object's key; the text may be too damaged to say). Checks, in this order:
//   not JSON / not an object                 -> Error(kCorruptData)
//   format_version missing or not a number    -> Error(kCorruptData)
//   format_version other than this build's    -> Error(kUnsupportedVersion) naming the version
//   checksum missing or different             -> Error(kChecksumMismatch) "manifest of backup "id" is corrupt ..."
//   a field missing or of the wrong type      -> Error(kCorruptData) naming the field
Manifest manifest_from_json(std::string_view text, std::string_view backup_id);

// One element of the manifest's `replica_sets`, as JSON: how a job that dumped one replica set
// (in an agent, or in-process) hands its part of the manifest to the coordinator. Parsing
// checks every field as manifest_from_json does (Error(kCorruptData) naming the field).
nlohmann::json replica_set_backup_to_json(const ReplicaSetBackup& set);
ReplicaSetBackup replica_set_backup_from_json(const nlohmann::json& value, std::string_view backup_id);

}  // namespace shardsafe::catalog

// mongodump's <coll>.metadata.json: a collection's options, indexes, UUID, name and type.
//
// The file is one line of canonical Extended JSON v2 exactly as mongodump's Go code writes it
// (no spaces, Go's string escaping and double formatting), with the fields in this order:
//   options         omitted when empty; listCollections' "options" verbatim (viewOn/pipeline
//                   for a view, capped/size/max, validator, collation, timeseries...)
//   indexes         always present; listIndexes documents verbatim ([] for a view)
//   uuid            omitted when unknown; info.uuid as 32 lowercase hex digits, no dashes
//   collectionName  the raw (unescaped) name
//   type            omitted when unknown; "collection", "view" or "timeseries"
// Readers accept any Extended JSON (canonical or relaxed, e.g. legacy files with "v":2) and
// files without uuid or type, as mongorestore does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mongo/bson.h"

namespace shardsafe::dump {

struct CollectionMetadata {
  mongo::Bson options;
  std::vector<mongo::Bson> indexes;
  std::string uuid;             // 32 lowercase hex digits, or empty
  std::string collection_name;  // empty only for old files that did not record it
  std::string type;             // "collection", "view", "timeseries", or empty
};

// From one listCollections entry ({name, type, options, info:{uuid}}) and the collection's
// listIndexes documents (pass none for a view).
CollectionMetadata metadata_from_list_collections(const mongo::Bson& entry, std::vector<mongo::Bson> indexes);

// A listCollections entry's info.uuid as 32 lowercase hex digits; empty when it has none.
std::string uuid_of_listing(const mongo::Bson& entry);

// The bytes of the metadata.json file mongodump would write (no trailing newline).
std::string to_metadata_json(const CollectionMetadata& metadata);

// Parses a metadata.json file. `origin` names it in errors. Throws Error(kCorruptData) naming
// the origin when it is not Extended JSON or a field has the wrong type.
CollectionMetadata parse_metadata_json(std::string_view json, std::string_view origin);

// Canonical Extended JSON v2 of a document, byte for byte as the Go driver's
// MarshalExtJSON(doc, canonical=true, escapeHTML=false) writes it.
std::string go_canonical_extended_json(const mongo::Bson& document);

}  // namespace shardsafe::dump

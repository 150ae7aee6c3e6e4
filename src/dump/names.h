// mongodump's file and object names.
//
// mongodump writes `<out>/<db>/<coll>.bson` and `<coll>.metadata.json` with the database and
// collection names passed through Go's url.QueryEscape, so a name with '/', '$' or a space still
// makes one file name. An escaped name longer than 238 bytes is cut to its first 208 bytes,
// followed by "%24" and the unpadded base64url SHA-1 of the raw name: the file name then no longer
// carries the full name, and the real name is the metadata file's "collectionName".
// We write the same names, so a shardsafe tree is a mongodump tree.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shardsafe::dump {

// Exactly Go's url.QueryEscape: unreserved bytes [A-Za-z0-9-_.~] stay, space becomes '+', every
// other byte becomes "%XX" (uppercase hex).
std::string query_escape(std::string_view raw);

// Go's url.QueryUnescape: '+' is a space, "%XX" a byte. Throws Error(kInvalidArgument) naming
// the text when a '%' is not followed by two hex digits.
std::string query_unescape(std::string_view escaped);

// The file-name stem mongodump uses for a database or collection name: query_escape(), then the
// >238-byte rule above.
std::string dump_file_stem(std::string_view name);

// Object keys of one collection's files under `prefix` (which ends in '/' or is empty):
// "<prefix><db>/<coll>.bson" and "<prefix><db>/<coll>.metadata.json". Compression suffixes
// (".zst", ".gz") are added by the storage layer, not here.
std::string collection_data_key(std::string_view prefix, std::string_view db, std::string_view collection);
std::string collection_metadata_key(std::string_view prefix, std::string_view db, std::string_view collection);
// "<prefix>oplog.bson": mongodump --oplog's file.
std::string oplog_key(std::string_view prefix);

// What one file of a dump directory holds, recovered from its path relative to the dump root.
struct DumpFile {
  enum class Kind { kData, kMetadata };
  std::string db;          // unescaped
  std::string collection;  // unescaped; for a >238-byte name, the truncated stem's unescaping
  Kind kind = Kind::kData;
  std::string compression_suffix;  // "", ".gz" or ".zst"
};

// Parses "<db>/<coll>.bson[.gz|.zst]" or "<db>/<coll>.metadata.json[.gz|.zst]". Returns nullopt
// for anything else (oplog.bson, prelude.json, deeper paths, undecodable names), which callers
// skip or handle by name.
std::optional<DumpFile> parse_dump_file(std::string_view relative_path);

}  // namespace shardsafe::dump

// Routing metadata of one collection and the pure functions that target documents and filters
// to chunks: a sharded collection's key pattern ({a: 1, b: 1}) and its chunks, each a
// half-open key range [min, max) owned by one shard, as stored in config.collections and
// config.chunks.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "query/document.h"
#include "server/bson_util.h"

namespace sandbox::mongos {

struct Chunk {
  Doc id;     // {_id: ObjectId}
  Doc min;    // {a: MinKey, ...} in key-pattern order
  Doc max;
  std::string shard;
  Timestamp lastmod;  // (major, minor): major grows on moves, minor on splits
  Doc entry;          // the whole config.chunks document
};

struct CollectionRouting {
  std::string ns;
  Doc key_pattern;              // {a: 1, b: 1}
  Uuid uuid{};
  bool unique = false;
  bool no_balance = false;
  std::vector<Chunk> chunks;    // sorted by min, covering MinKey..MaxKey without gaps

  // The chunk whose range holds `key` (a key document as made by extract_key). REQUIRES: chunks
  // is not empty.
  const Chunk& chunk_for(const bson_t* key) const;
  // The highest lastmod over all chunks: the collection version.
  Timestamp version() const;
  std::set<std::string> owning_shards() const;
};

// Compares two key documents field by field in MongoDB's order (MinKey < ... < MaxKey).
int compare_keys(const bson_t* a, const bson_t* b);

// The shard key of `doc`: {field: value} for each key-pattern field (dotted paths followed
// through sub-documents; a missing field is null). Throws CommandError 2 BadValue when a
// key field holds an array (shard keys cannot be arrays).
Doc extract_key(const bson_t* doc, const bson_t* key_pattern);

// The exact shard key a filter pins by equality on every key field, if it does.
std::optional<Doc> key_from_filter(const bson_t* filter, const bson_t* key_pattern);

// {a: MinKey, b: MinKey} or the MaxKey form.
Doc global_min(const bson_t* key_pattern);
Doc global_max(const bson_t* key_pattern);

// Whether `key` is a full key for this pattern (same fields in the same order).
bool is_full_key(const bson_t* key, const bson_t* key_pattern);

}  // namespace sandbox::mongos

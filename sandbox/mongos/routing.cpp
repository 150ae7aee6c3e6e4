#include "mongos/routing.h"

#include <algorithm>

#include "query/query.h"

namespace sandbox::mongos {
namespace {

Doc bound(const bson_t* key_pattern, bool max) {
  Builder out;
  bson_iter_t iter;
  bson_iter_init(&iter, key_pattern);
  while (bson_iter_next(&iter)) {
    if (max) {
      BSON_APPEND_MAXKEY(out.get(), bson_iter_key(&iter));
    } else {
      BSON_APPEND_MINKEY(out.get(), bson_iter_key(&iter));
    }
  }
  return out.doc();
}

}  // namespace

int compare_keys(const bson_t* a, const bson_t* b) {
  bson_iter_t left, right;
  bson_iter_init(&left, a);
  bson_iter_init(&right, b);
  while (true) {
    bool has_left = bson_iter_next(&left);
    bool has_right = bson_iter_next(&right);
    if (!has_left || !has_right) return static_cast<int>(has_left) - static_cast<int>(has_right);
    if (int c = compare_values(&left, &right); c != 0) return c;
  }
}

const Chunk& CollectionRouting::chunk_for(const bson_t* key) const {
  // The last chunk whose min is <= key.
  auto after = std::upper_bound(chunks.begin(), chunks.end(), key, [](const bson_t* k, const Chunk& chunk) {
    return compare_keys(k, chunk.min.bson()) < 0;
  });
  return after == chunks.begin() ? chunks.front() : *(after - 1);
}

Timestamp CollectionRouting::version() const {
  Timestamp highest;
  for (const Chunk& chunk : chunks) highest = std::max(highest, chunk.lastmod);
  return highest;
}

std::set<std::string> CollectionRouting::owning_shards() const {
  std::set<std::string> shards;
  for (const Chunk& chunk : chunks) shards.insert(chunk.shard);
  return shards;
}

Doc extract_key(const bson_t* doc, const bson_t* key_pattern) {
  Builder out;
  bson_iter_t field;
  bson_iter_init(&field, key_pattern);
  while (bson_iter_next(&field)) {
    const char* path = bson_iter_key(&field);
    bson_iter_t root, value;
    if (bson_iter_init(&root, doc) && bson_iter_find_descendant(&root, path, &value)) {
      if (BSON_ITER_HOLDS_ARRAY(&value)) {
        throw CommandError(2, "BadValue", std::string("shard key field '") + path + "' cannot be an array");
      }
      append_iter(out.get(), path, &value);
    } else {
      BSON_APPEND_NULL(out.get(), path);
    }
  }
  return out.doc();
}

std::optional<Doc> key_from_filter(const bson_t* filter, const bson_t* key_pattern) {
  Doc seed;
  try {
    seed = upsert_seed(filter);
  } catch (const CommandError&) {
    return std::nullopt;  // contradictory equalities: no single key
  }
  Builder out;
  bson_iter_t field;
  bson_iter_init(&field, key_pattern);
  while (bson_iter_next(&field)) {
    const char* path = bson_iter_key(&field);
    bson_iter_t root, value;
    if (!bson_iter_init(&root, seed.bson()) || !bson_iter_find_descendant(&root, path, &value)) return std::nullopt;
    if (BSON_ITER_HOLDS_ARRAY(&value) || BSON_ITER_HOLDS_REGEX(&value)) return std::nullopt;
    append_iter(out.get(), path, &value);
  }
  return out.doc();
}

Doc global_min(const bson_t* key_pattern) { return bound(key_pattern, false); }
Doc global_max(const bson_t* key_pattern) { return bound(key_pattern, true); }

bool is_full_key(const bson_t* key, const bson_t* key_pattern) {
  bson_iter_t a, b;
  bson_iter_init(&a, key);
  bson_iter_init(&b, key_pattern);
  while (true) {
    bool has_a = bson_iter_next(&a);
    bool has_b = bson_iter_next(&b);
    if (!has_a || !has_b) return has_a == has_b;
    if (std::string_view(bson_iter_key(&a)) != bson_iter_key(&b)) return false;
  }
}

}  // namespace sandbox::mongos

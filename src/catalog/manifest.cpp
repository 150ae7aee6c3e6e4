#include "catalog/manifest.h"

namespace shardsafe::catalog {
namespace {

std::uint64_t stored_bytes(const storage::StoredStream& stream) {
  std::uint64_t total = 0;
  for (const auto& part : stream.parts) total += part.size;
  return total;
}

}  // namespace

std::uint64_t Manifest::total_documents() const {
  std::uint64_t total = 0;
  for (const auto& set : replica_sets) {
    for (const auto& collection : set.collections) total += collection.documents;
  }
  return total;
}

std::uint64_t Manifest::total_raw_bytes() const {
  std::uint64_t total = 0;
  for (const auto& set : replica_sets) {
    for (const auto& collection : set.collections) total += collection.bytes;
    total += set.oplog.raw_size;
  }
  return total;
}

std::uint64_t Manifest::total_stored_bytes() const {
  std::uint64_t total = 0;
  for (const auto& set : replica_sets) {
    for (const auto& collection : set.collections) total += stored_bytes(collection.data) + stored_bytes(collection.metadata);
    total += stored_bytes(set.oplog);
  }
  return total;
}

}  // namespace shardsafe::catalog

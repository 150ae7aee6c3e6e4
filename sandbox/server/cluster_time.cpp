#include "server/cluster_time.h"

#include <algorithm>
#include <array>

namespace sandbox {
namespace {

constexpr std::string_view kLevels[] = {"local", "majority", "snapshot", "available", "linearizable"};

std::optional<Timestamp> timestamp_field(const bson_t* doc, std::string_view key) {
  auto field = find_field(doc, key);
  if (!field || !BSON_ITER_HOLDS_TIMESTAMP(&*field)) return std::nullopt;
  Timestamp ts;
  bson_iter_timestamp(&*field, &ts.secs, &ts.inc);
  return ts;
}

}  // namespace

// A deployment without keys (no auth) signs with a zero hash and key id 0, which clients and
// other nodes accept and pass back unchanged.
Doc cluster_time_document(Timestamp cluster_time) {
  static constexpr std::array<std::uint8_t, 20> kZeroHash{};
  Builder gossip;
  bson_t signature;
  BSON_APPEND_TIMESTAMP(gossip.get(), "clusterTime", cluster_time.secs, cluster_time.inc);
  BSON_APPEND_DOCUMENT_BEGIN(gossip.get(), "signature", &signature);
  BSON_APPEND_BINARY(&signature, "hash", BSON_SUBTYPE_BINARY, kZeroHash.data(), kZeroHash.size());
  BSON_APPEND_INT64(&signature, "keyId", 0);
  bson_append_document_end(gossip.get(), &signature);
  return gossip.doc();
}

std::optional<Timestamp> gossiped_cluster_time(const bson_t* message) {
  auto gossip = find_field(message, "$clusterTime");
  if (!gossip || !BSON_ITER_HOLDS_DOCUMENT(&*gossip)) return std::nullopt;
  return timestamp_field(iter_document(&*gossip).bson(), "clusterTime");
}

std::optional<Timestamp> reply_operation_time(const bson_t* reply) { return timestamp_field(reply, "operationTime"); }

Doc with_logical_times(const Doc& reply, Timestamp cluster_time, Timestamp operation_time) {
  Builder out;
  bson_iter_t iter;
  bson_iter_init(&iter, reply.bson());
  while (bson_iter_next(&iter)) {
    std::string_view key = bson_iter_key(&iter);
    if (key != "$clusterTime" && key != "operationTime") append_iter(out.get(), key, &iter);
  }
  if (!cluster_time.is_null()) append_doc(out.get(), "$clusterTime", cluster_time_document(cluster_time).bson());
  if (!operation_time.is_null()) BSON_APPEND_TIMESTAMP(out.get(), "operationTime", operation_time.secs, operation_time.inc);
  return out.doc();
}

ReadConcern parse_read_concern(const bson_t* command) {
  ReadConcern concern;
  auto given = get_document(command, "readConcern");
  if (!given) return concern;
  concern.level = get_string(given->bson(), "level").value_or("local");
  if (std::find(std::begin(kLevels), std::end(kLevels), concern.level) == std::end(kLevels)) {
    throw_error(9, "FailedToParse", "readConcern.level must be one of local, majority, snapshot, available, "
                                    "linearizable, not '" + concern.level + "'");
  }
  if (!find_field(given->bson(), "afterClusterTime")) return concern;
  concern.after_cluster_time = timestamp_field(given->bson(), "afterClusterTime");
  if (!concern.after_cluster_time) {
    throw_error(14, "TypeMismatch", "BSON field 'readConcern.afterClusterTime' is the wrong type, expected a timestamp");
  }
  if (concern.after_cluster_time->is_null()) {
    throw_error(72, "InvalidOptions", "readConcern afterClusterTime cannot be a null timestamp");
  }
  return concern;
}

}  // namespace sandbox

#include "dump/dumper.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <tuple>

#include "common/error.h"
#include "common/parallel.h"
#include "dump/metadata.h"
#include "dump/names.h"
#include "mongo/topology.h"
#include "oplog/capture.h"
#include "storage/async_sink.h"

namespace shardsafe::dump {
namespace {

constexpr std::array kConfigCollectionsKept = {"chunks", "collections", "databases", "settings",
                                               "shards", "tags",        "version"};
constexpr std::array kAdminSystemCollectionsKept = {"system.users", "system.roles", "system.version"};

template <std::size_t N>
bool contains(const std::array<const char*, N>& names, const std::string& name) {
  return std::any_of(names.begin(), names.end(), [&](const char* kept) { return name == kept; });
}

// The member a dump reads from: the primary, or a healthy secondary when asked for one.
std::string choose_member(const mongo::ReplicaSetTopology& topology, const DumpOptions& options) {
  if (!options.member.empty()) {
    const bool healthy = options.member == topology.primary ||
                         std::find(topology.secondaries.begin(), topology.secondaries.end(), options.member) !=
                             topology.secondaries.end();
    if (!healthy) {
      throw Error(ErrorCode::kInvalidArgument, "\"" + options.member + "\" is not a healthy member of replica set \"" +
                                                   topology.name + "\" (primary " + topology.primary + ")");
    }
    return options.member;
  }
  const mongo::ReadPreference preference = options.read_preference;
  const bool wants_secondary =
      preference == mongo::ReadPreference::kSecondary || preference == mongo::ReadPreference::kSecondaryPreferred;
  if (wants_secondary && !topology.secondaries.empty()) return topology.secondaries.front();
  if (preference == mongo::ReadPreference::kSecondary) {
    throw Error(ErrorCode::kConnection, "replica set \"" + topology.name +
                                            "\" has no healthy secondary to read from (--read-preference secondary)");
  }
  return topology.primary;
}

// The collection's data size and average document size, from collStats. Only estimates, for
// progress, scheduling and batch sizes: a server without collStats leaves them 0.
void estimate_size(mongo::Client& client, PlannedCollection& planned) {
  try {
    const mongo::Bson stats = client.command(planned.db, mongo::BsonBuilder().append("collStats", planned.name).build());
    planned.size_estimate = static_cast<std::uint64_t>(mongo::BsonView(stats).integer("size").value_or(0));
    planned.average_document_size = static_cast<std::uint64_t>(mongo::BsonView(stats).integer("avgObjSize").value_or(0));
  } catch (const ServerError&) {
  }
}

// The server sends up to 16 MiB per batch, and libmongoc holds a batch (more than once) while
// it is read: with 4 collections at once that alone was 150 MiB. Batches of about 4 MiB keep
// the dump's memory well under its bound at no cost in speed (a getMore is a loopback round
// trip per 4 MiB). 0 lets the server choose, when the document size is unknown.
constexpr std::uint64_t kTargetBatchBytes = 4 << 20;

mongo::Bson find_options(const PlannedCollection& planned) {
  if (planned.average_document_size == 0) return mongo::Bson();
  const auto documents = std::max<std::uint64_t>(1, kTargetBatchBytes / planned.average_document_size);
  return mongo::BsonBuilder().append("batchSize", static_cast<std::int64_t>(documents)).build();
}

}  // namespace

bool dump_includes(const std::string& db, const std::string& collection) {
  if (db == "local" || db.starts_with("__mdb_internal") || collection.find('$') != std::string::npos) return false;
  if (db == "config") return contains(kConfigCollectionsKept, collection);
  if (db == "admin" && contains(kAdminSystemCollectionsKept, collection)) return true;
  if (db == "admin" && (collection == "system.keys" || collection == kLockCollection)) return false;
  return !collection.starts_with("system.") || collection == "system.js";
}

ReplicaSetDumper::ReplicaSetDumper(const mongo::Uri& uri, storage::Storage& storage, std::string prefix,
                                   DumpOptions options, Progress& progress)
    : uri_(uri), storage_(storage), prefix_(std::move(prefix)), options_(std::move(options)), progress_(progress) {}

ReplicaSetDumper::~ReplicaSetDumper() = default;

void ReplicaSetDumper::begin() {
  const auto topology = mongo::discover_replica_set(uri_);
  result_.name = topology.name;
  result_.source_host = choose_member(topology, options_);
  // Dump and oplog come from the same member, over a direct connection, so they describe one
  // history even if the set elects another primary meanwhile.
  member_uri_ = std::make_unique<mongo::Uri>(uri_.direct_to(result_.source_host));
  pool_ = std::make_unique<mongo::ClientPool>(*member_uri_, options_.parallel_collections + 1);
  mongo::Client client = pool_->acquire();
  result_.server_version = mongo::server_version(client);
  result_.start_optime = mongo::newest_oplog_ts(client);
  plan_namespaces(client);
  spdlog::info("replica set \"{}\": dumping {} namespaces from {} (start optime {})", result_.name,
               planned_.size(), result_.source_host, result_.start_optime.to_string());
}

void ReplicaSetDumper::plan_namespaces(mongo::Client& client) {
  for (auto& [db, entry] : mongo::list_all_collections(client, mongo::ReadPreference::kPrimaryPreferred)) {
    const mongo::BsonView view(entry);
    PlannedCollection planned{db, view.string("name").value_or(""), view.string("type").value_or("collection"),
                              std::move(entry), 0};
    if (!dump_includes(db, planned.name)) continue;
    if (planned.type == "collection") estimate_size(client, planned);
    planned_.push_back(std::move(planned));
  }
  // Largest first: the long collections start early, the small ones fill the gaps. Ties go by
  // namespace, so the order is total and the plan the same on every run. Not stable_sort:
  // libstdc++'s stable_sort buffers elements in memory aligned for 16 bytes, and a
  // PlannedCollection (a bson_t inside its Bson) asks for 128 (UBSan: misaligned reference).
  std::sort(planned_.begin(), planned_.end(), [](const auto& a, const auto& b) {
    return std::tie(b.size_estimate, a.db, a.name) < std::tie(a.size_estimate, b.db, b.name);
  });
}

std::vector<mongo::Bson> ReplicaSetDumper::list_indexes(mongo::Client& client, const PlannedCollection& planned) {
  std::vector<mongo::Bson> indexes;
  if (planned.type == "view") return indexes;
  mongo::Cursor cursor = client.command_cursor(
      planned.db,
      mongo::BsonBuilder().append("listIndexes", planned.name).append("cursor", mongo::Bson()).build(),
      mongo::ReadPreference::kPrimaryPreferred);
  while (const bson_t* index = cursor.next()) indexes.push_back(mongo::Bson::copy_of(index));
  return indexes;
}

catalog::CollectionEntry ReplicaSetDumper::dump_one(const PlannedCollection& planned) {
  mongo::Client client = pool_->acquire();
  catalog::CollectionEntry entry;
  entry.db = planned.db;
  entry.name = planned.name;
  entry.type = planned.type;

  const std::string metadata = to_metadata_json(metadata_from_list_collections(planned.listing, list_indexes(client, planned)));
  auto metadata_writer = storage::write_stream(storage_, collection_metadata_key(prefix_, planned.db, planned.name), options_.stream);
  metadata_writer->write({reinterpret_cast<const std::uint8_t*>(metadata.data()), metadata.size()});
  entry.metadata = metadata_writer->commit();

  if (planned.type != "view") {
    auto data_writer = storage::write_stream(storage_, collection_data_key(prefix_, planned.db, planned.name), options_.stream);
    {
      // The cursor waits on the network while compression, hashing and storage writes run on
      // the AsyncSink's thread: the dump goes at the speed of the slower of the two.
      storage::AsyncSink overlapped(*data_writer);
      mongo::Cursor cursor = client.find(planned.db, planned.name, mongo::Bson(), find_options(planned),
                                         mongo::ReadPreference::kPrimaryPreferred);
      while (const bson_t* document = cursor.next()) {
        overlapped.write({bson_get_data(document), document->len});
        entry.documents++;
        entry.bytes += document->len;
        progress_.add(document->len, 1);
      }
      overlapped.finish();
    }
    entry.data = data_writer->commit();
  }
  progress_.unit_done();
  spdlog::debug("dumped \"{}.{}\": {} documents, {} bytes", planned.db, planned.name, entry.documents, entry.bytes);
  return entry;
}

std::uint64_t ReplicaSetDumper::planned_bytes() const {
  std::uint64_t total = 0;
  for (const auto& planned : planned_) total += planned.size_estimate;
  return total;
}

void ReplicaSetDumper::dump_collections() {
  std::vector<catalog::CollectionEntry> entries(planned_.size());
  parallel_for(planned_.size(), options_.parallel_collections,
               [&](std::size_t i) { entries[i] = dump_one(planned_[i]); });
  result_.collections = std::move(entries);
}

mongo::Timestamp ReplicaSetDumper::newest_optime() {
  mongo::Client client = pool_->acquire();
  return mongo::newest_oplog_ts(client);
}

std::optional<mongo::Bson> ReplicaSetDumper::cluster_time() {
  mongo::Client client = pool_->acquire();
  return mongo::gossiped_cluster_time(client);
}

void ReplicaSetDumper::wait_for_optime(mongo::Timestamp ts, std::chrono::seconds timeout,
                                       const std::optional<mongo::Bson>& cluster_time) {
  mongo::Client client = pool_->acquire();
  oplog::wait_for_optime(client, ts, std::chrono::steady_clock::now() + timeout, cluster_time);
}

catalog::ReplicaSetBackup ReplicaSetDumper::finish(mongo::Timestamp up_to) {
  mongo::Client client = pool_->acquire();
  storage::StreamOptions oplog_stream = options_.stream;
  // mongodump --gzip's quirk, kept so stock mongorestore --gzip --oplogReplay finds the file.
  if (oplog_stream.compression == storage::Compression::kGzip) oplog_stream.suffix_names = false;
  auto writer = storage::write_stream(storage_, oplog_key(prefix_), oplog_stream);
  const auto captured = oplog::capture_oplog(client, result_.name, result_.start_optime, up_to, *writer);
  result_.oplog = writer->commit();
  result_.oplog_entries = captured.entries;
  result_.end_optime = up_to;
  progress_.add(captured.bytes, captured.entries);
  return result_;
}

}  // namespace shardsafe::dump

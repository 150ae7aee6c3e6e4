#include "mongo/topology.h"

#include "common/error.h"

namespace shardsafe::mongo {
namespace {

std::optional<Timestamp> oplog_edge_ts(Client& client, int natural_order) {
  const Bson options = BsonBuilder()
                           .append("sort", BsonBuilder().append("$natural", natural_order).build())
                           .append("limit", std::int64_t{1})
                           .append("projection", BsonBuilder().append("ts", 1).build())
                           .build();
  Cursor cursor = client.find("local", "oplog.rs", Bson(), options);
  const bson_t* entry = cursor.next();
  if (entry == nullptr) return std::nullopt;
  return BsonView(entry).timestamp("ts");
}

Timestamp require_entry(std::optional<Timestamp> ts, Client& client) {
  if (!ts) {
    throw Error(ErrorCode::kInvalidArgument,
                "the oplog of " + client.redacted_uri() + " is empty: is it a replica set member?");
  }
  return *ts;
}

}  // namespace

HelloReply hello(Client& client) {
  const Bson reply = client.command("admin", BsonBuilder().append("hello", 1).build(),
                                    ReadPreference::kPrimaryPreferred);
  const BsonView view(reply);
  HelloReply out;
  out.set_name = view.string("setName").value_or("");
  out.me = view.string("me").value_or("");
  out.primary = view.string("primary").value_or("");
  out.writable_primary = view.boolean("isWritablePrimary").value_or(false);
  out.secondary = view.boolean("secondary").value_or(false);
  out.config_server = view.integer("configsvr").value_or(0) == 2;
  out.hosts = view.strings("hosts");
  out.last_write = view.timestamp("lastWrite.opTime.ts");
  out.max_wire_version = static_cast<int>(view.integer("maxWireVersion").value_or(0));
  if (view.string("msg") == "isdbgrid") {
    out.kind = ServerKind::kMongos;
  } else if (!out.set_name.empty()) {
    out.kind = ServerKind::kReplicaSetMember;
  }
  return out;
}

ReplicaSetTopology discover_replica_set(const Uri& uri) {
  Client client(uri);
  // Selecting the primary waits for an election in progress, up to serverSelectionTimeoutMS.
  client.command("admin", BsonBuilder().append("ping", 1).build(), ReadPreference::kPrimary);
  const HelloReply primary = hello(client);
  if (primary.kind == ServerKind::kMongos) {
    throw Error(ErrorCode::kInvalidArgument,
                uri.redacted() + " is a mongos: give the replica set's URI, or back up the cluster through the mongos");
  }
  if (primary.kind != ServerKind::kReplicaSetMember) {
    throw Error(ErrorCode::kInvalidArgument,
                uri.redacted() + " is a standalone server: shardsafe needs a replica set (its oplog makes backups consistent)");
  }
  ReplicaSetTopology out;
  out.name = primary.set_name;
  out.primary = primary.writable_primary ? primary.me : primary.primary;
  out.members = primary.hosts;
  out.config_server = primary.config_server;
  const Bson status = client.command("admin", BsonBuilder().append("replSetGetStatus", 1).build());
  for (const Bson& member : BsonView(status).documents("members")) {
    const BsonView m(member);
    if (m.integer("state") == 2 && m.integer("health").value_or(1) == 1) {
      out.secondaries.push_back(m.string("name").value_or(""));
    }
  }
  return out;
}

std::pair<std::string, std::vector<std::string>> parse_replset_host_string(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) {
    throw Error(ErrorCode::kInvalidArgument, "malformed shard host string \"" + text + "\": expected <replset>/<host:port>,...");
  }
  std::vector<std::string> hosts;
  std::string_view rest = std::string_view(text).substr(slash + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    hosts.emplace_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return {text.substr(0, slash), hosts};
}

ClusterTopology discover_cluster(const Uri& mongos_uri) {
  Client client(mongos_uri);
  if (hello(client).kind != ServerKind::kMongos) {
    throw Error(ErrorCode::kInvalidArgument, mongos_uri.redacted() + " is not a mongos");
  }
  const Bson map = client.command("admin", BsonBuilder().append("getShardMap", 1).build());
  std::vector<ShardInfo> shard_list;
  const Bson shards = client.command("admin", BsonBuilder().append("listShards", 1).build());
  for (const Bson& shard : BsonView(shards).documents("shards")) {
    const BsonView view(shard);
    auto [replset, hosts] = parse_replset_host_string(view.string("host").value_or(""));
    shard_list.push_back({view.string("_id").value_or(""), replset, mongos_uri.with_hosts(hosts, replset)});
  }
  const auto config_hosts = BsonView(map).string("map.config");
  if (!config_hosts) throw Error(ErrorCode::kServer, "getShardMap on " + mongos_uri.redacted() + " has no config entry");
  auto [replset, hosts] = parse_replset_host_string(*config_hosts);
  return ClusterTopology{std::move(shard_list), ShardInfo{"config", replset, mongos_uri.with_hosts(hosts, replset)}};
}

std::optional<Timestamp> newest_oplog_entry_ts(Client& client) { return oplog_edge_ts(client, -1); }
Timestamp newest_oplog_ts(Client& client) { return require_entry(oplog_edge_ts(client, -1), client); }
Timestamp oldest_oplog_ts(Client& client) { return require_entry(oplog_edge_ts(client, 1), client); }

std::optional<Bson> gossiped_cluster_time(Client& client) {
  const Bson reply = client.command("admin", BsonBuilder().append("ping", 1).build());
  return BsonView(reply).document("$clusterTime");
}

std::vector<CollectionListing> list_all_collections(Client& client, ReadPreference read_preference) {
  std::vector<CollectionListing> listings;
  const Bson databases =
      client.command("admin", BsonBuilder().append("listDatabases", 1).append("nameOnly", true).build(), read_preference);
  for (const Bson& database : BsonView(databases).documents("databases")) {
    const std::string db = BsonView(database).string("name").value_or("");
    Cursor cursor = client.command_cursor(
        db, BsonBuilder().append("listCollections", 1).append("cursor", Bson()).build(), read_preference);
    while (const bson_t* entry = cursor.next()) listings.push_back({db, Bson::copy_of(entry)});
  }
  return listings;
}

std::string server_version(Client& client) {
  const Bson info = client.command("admin", BsonBuilder().append("buildInfo", 1).build());
  return BsonView(info).string("version").value_or("unknown");
}

}  // namespace shardsafe::mongo

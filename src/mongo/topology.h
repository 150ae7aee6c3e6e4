// What a deployment looks like: the replica set behind a URI, its primary, the shards behind a
// mongos. Only documented commands are used (hello, replSetGetStatus, listShards, getShardMap,
// buildInfo), so this works the same on mongod, mongos and the sandbox.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mongo/bson.h"
#include "mongo/client.h"

namespace shardsafe::mongo {

enum class ServerKind { kStandalone, kReplicaSetMember, kMongos };

// The parts of a hello reply shardsafe acts on.
struct HelloReply {
  ServerKind kind = ServerKind::kStandalone;
  std::string set_name;            // empty unless a replica set member
  std::string me;
  std::string primary;             // as the member sees it; may be empty during an election
  bool writable_primary = false;
  bool secondary = false;
  bool config_server = false;      // configsvr: 2
  std::vector<std::string> hosts;  // data-bearing members
  std::optional<Timestamp> last_write;
  int max_wire_version = 0;
};
HelloReply hello(Client& client);

struct ReplicaSetTopology {
  std::string name;
  std::string primary;                  // "host:port"
  std::vector<std::string> members;     // hosts, primary included
  std::vector<std::string> secondaries; // healthy secondaries
  bool config_server = false;
};

// Connects through `uri` (a seed list with replicaSet=..., or a single member) and describes
// the set, waiting up to the driver's server selection timeout for a primary.
// Throws Error(kConnection) when no primary can be found, kInvalidArgument for a mongos or a
// standalone (a backup needs a replica set: the oplog makes it consistent).
ReplicaSetTopology discover_replica_set(const Uri& uri);

struct ShardInfo {
  std::string id;       // "shard0"
  std::string replset;  // replica set name from host "rs/h1:p,h2:p"
  Uri uri;              // the set's members with the mongos URI's credentials and options
};
struct ClusterTopology {
  std::vector<ShardInfo> shards;
  ShardInfo config;  // id "config"
};
// Through a mongos: listShards and getShardMap. kInvalidArgument when `uri` is not a mongos.
ClusterTopology discover_cluster(const Uri& mongos_uri);

// The member's newest oplog entry's ts (find on local.oplog.rs sorted {$natural:-1}).
// Error(kInvalidArgument) when its oplog is empty.
Timestamp newest_oplog_ts(Client& client);
// The same, or nullopt while the oplog is empty (a member still in initial sync).
std::optional<Timestamp> newest_oplog_entry_ts(Client& client);
// The deployment's cluster time as the member gossips it (the $clusterTime document of a ping's
// reply, signed when auth is on): at or after every entry in its oplog when asked. nullopt from
// a server that gossips none (a standalone).
std::optional<Bson> gossiped_cluster_time(Client& client);
// The member's oldest oplog entry's ts: the oplog window starts here.
Timestamp oldest_oplog_ts(Client& client);
// One collection or view, as listCollections describes it in database `db`.
struct CollectionListing {
  std::string db;
  Bson entry;  // {name, type, options, info: {uuid}, idIndex}, verbatim
};
// Every collection and view of every database (listDatabases, then listCollections on each),
// read whole so the caller may run other commands while going through them.
std::vector<CollectionListing> list_all_collections(Client& client,
                                                    ReadPreference read_preference = ReadPreference::kPrimary);

// buildInfo's version string ("7.0.14").
std::string server_version(Client& client);

// "rs0/h1:1,h2:2" -> {"rs0", {"h1:1","h2:2"}}. Throws kInvalidArgument when malformed.
std::pair<std::string, std::vector<std::string>> parse_replset_host_string(const std::string& text);

}  // namespace shardsafe::mongo

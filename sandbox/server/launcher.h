// The launcher: starts the members of a replica set as detached processes (the sandbox's own
// `mongod` verb, or a real mongod given with --mongod), initiates the set with the real
// replSetInitiate command, waits for a primary, and records everything under --dir:
//   D/cluster.json         {"uri", "replset", "members":[{host, pid, dbpath, log}]}
//   D/launch.json          the argv of each member, so `restart` starts it the same way
//   D/<set>-<i>/           member i's dbpath;  D/<set>-<i>.log its log
// `down` stops every member (SIGTERM, then SIGKILL after a deadline), `kill` SIGKILLs one,
// `restart` starts one again on the same port and dbpath.
#pragma once

#include <filesystem>
#include <string>

namespace sandbox {

struct UpOptions {
  std::filesystem::path dir;
  std::string replset = "rs0";
  int members = 1;
  int port = 27017;
  int oplog_size_mb = 0;   // 0: the server's default
  std::string mongod;      // path of a real mongod; empty: this binary's `mongod` verb
  // Sharded clusters (sandbox/mongos/cluster_launcher): members of a config server set get
  // --configsvr and the set's config says configsvr: true (real config servers require it);
  // shard members get --shardsvr.
  bool configsvr = false;
  bool shardsvr = false;
  bool print_json = true;  // false: only D/cluster.json (sets started in parallel stay quiet)
};

// Each returns the process exit code and prints errors to stderr.
int launch_up(const UpOptions& options);
int launch_down(const std::filesystem::path& dir);
int launch_kill(const std::filesystem::path& dir, int member);
int launch_restart(const std::filesystem::path& dir, int member);

}  // namespace sandbox

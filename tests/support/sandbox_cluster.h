// A sharded cluster for integration tests: a config server replica set, shard replica sets and
// one mongos on free loopback ports, started with `shardsafe-sandbox up --shards ...` in a
// temporary directory and stopped (and removed) by the destructor.
//
// With SHARDSAFE_MONGOD and SHARDSAFE_MONGOS set to real binaries, the same topology runs on
// real MongoDB. Tests that need real binaries call skip_unless_real_binaries() first.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "support/sandbox.h"

namespace shardsafe::testing {

class SandboxShardedCluster {
 public:
  struct Options {
    int shards = 2;
    int members = 1;         // members of each shard replica set
    int config_members = 1;
  };

  // Starts the cluster; throws std::runtime_error with the launcher's message on failure.
  explicit SandboxShardedCluster(Options options);
  ~SandboxShardedCluster();
  SandboxShardedCluster(const SandboxShardedCluster&) = delete;
  SandboxShardedCluster& operator=(const SandboxShardedCluster&) = delete;

  const std::string& mongos_uri() const { return mongos_uri_; }   // mongodb://127.0.0.1:P
  const std::string& config_uri() const { return config_uri_; }   // ...?replicaSet=cfg
  const std::vector<std::string>& shard_uris() const { return shard_uris_; }
  const std::vector<std::string>& shard_names() const { return shard_names_; }  // shard0, shard1...
  // "host:port" of each member of shard `shard`, in member order.
  const std::vector<std::string>& shard_members(int shard) const { return shard_members_.at(static_cast<std::size_t>(shard)); }
  const std::filesystem::path& dir() const { return dir_; }  // cluster.json, logs, D/shard0...
  bool uses_real_binaries() const { return real_binaries_; }

  // SIGKILL / start again member `member` of shard `shard` (same port and data directory).
  void kill_member(int shard, int member);
  void restart_member(int shard, int member);

  // Whether SHARDSAFE_MONGOD and SHARDSAFE_MONGOS name real binaries.
  static bool real_binaries_available();

 private:
  void run_launcher(const std::vector<std::string>& args, std::string* output) const;

  TempDir temp_;               // removed last, after the destructor's `down`
  std::filesystem::path dir_;  // the launcher's --dir, inside temp_
  bool real_binaries_ = false;
  std::string mongos_uri_;
  std::string config_uri_;
  std::vector<std::string> shard_uris_;
  std::vector<std::string> shard_names_;
  std::vector<std::vector<std::string>> shard_members_;
};

}  // namespace shardsafe::testing

// In a test body: skips (with a message) unless real mongod/mongos binaries were given.
#define SHARDSAFE_SKIP_UNLESS_REAL_BINARIES()                                                    \
  if (!::shardsafe::testing::SandboxShardedCluster::real_binaries_available())                   \
  GTEST_SKIP() << "needs real binaries: set SHARDSAFE_MONGOD and SHARDSAFE_MONGOS to run this test"

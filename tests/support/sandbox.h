// Integration-test fixtures: temporary directories and sandbox replica sets.
//
// SandboxReplSet starts a replica set with `shardsafe-sandbox up` (or real mongod binaries
// when SHARDSAFE_MONGOD names one) on free loopback ports, waits until it has a primary, and
// stops it in its destructor. Tests kill and restart members through it, as one would kill
// mongod processes.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace shardsafe::testing {

// The build directory (env SHARDSAFE_BUILD_DIR, set by ctest); throws std::runtime_error when
// unset.
std::filesystem::path build_dir();

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class SandboxReplSet {
 public:
  struct Options {
    std::string name = "rs0";
    int members = 1;
    int oplog_size_mb = 64;
  };

  // Starts the set and waits for a primary; throws std::runtime_error (with the launcher's
  // output) when it cannot.
  explicit SandboxReplSet(Options options);
  ~SandboxReplSet();  // stops every member
  SandboxReplSet(const SandboxReplSet&) = delete;
  SandboxReplSet& operator=(const SandboxReplSet&) = delete;

  // mongodb://127.0.0.1:P,...,127.0.0.1:P+n-1/?replicaSet=<name>
  const std::string& uri() const { return uri_; }
  std::vector<std::string> hosts() const { return hosts_; }  // "127.0.0.1:P"
  // A URI that talks to member i alone: mongodb://127.0.0.1:P+i/?directConnection=true
  std::string member_uri(int i) const;
  // SIGKILLs member i and waits until the process is gone.
  void kill_member(int i);
  // Starts member i again (same port and dbpath) and waits until it accepts connections.
  void restart_member(int i);
  // The launcher's --dir (cluster.json, logs, dbpaths).
  const std::filesystem::path& dir() const { return launch_dir_; }

 private:
  void run_launcher(const std::vector<std::string>& args, std::string* output);

  Options options_;
  TempDir dir_;
  std::string uri_;
  std::vector<std::string> hosts_;
  std::filesystem::path launch_dir_;
};

}  // namespace shardsafe::testing

// shardsafe-sandbox: a MongoDB wire-protocol server for tests, and its launcher.
//   shardsafe-sandbox mongod --port P --dbpath DIR --replSet rs0 [...]   one member
//   shardsafe-sandbox up --dir D --replset rs0 --members 3 --port P       a whole replica set
//   shardsafe-sandbox down|kill|restart --dir D [--member I]
//   shardsafe-sandbox up --dir D --shards 2 --members 3 --port P         a sharded cluster
//   shardsafe-sandbox mongos --port P --configdb cfg/h:p,...              one router
#include <CLI/CLI.hpp>

#include "mongos/cluster_launcher.h"
#include "server/launcher.h"
#include "server/server.h"

namespace {

// The member verb takes mongod's own flags, so the launcher starts either binary the same way.
void add_mongod_flags(CLI::App& mongod, sandbox::ServerOptions& options, std::string& dbpath) {
  mongod.add_option("--port", options.port, "port to listen on")->check(CLI::Range(1, 65535));
  mongod.add_option("--bind_ip", options.bind_ip, "address to listen on");
  mongod.add_option("--dbpath", dbpath, "data directory")->required();
  mongod.add_option("--replSet", options.repl_set, "replica set name");
  mongod.add_option("--oplogSize", options.oplog_size_mb, "oplog size in megabytes")->check(CLI::PositiveNumber);
  mongod.add_flag("--configsvr", options.configsvr, "config server member");
  mongod.add_flag("--shardsvr", options.shardsvr, "shard member");
  mongod.add_option("--logpath", options.logpath, "log file (default: stderr)");
  // Accepted for compatibility with real mongod command lines; they change nothing here.
  mongod.add_flag("--logappend,--quiet,--nounixsocket,--bind_ip_all,--noauth");
  mongod.add_option("--setParameter,--wiredTigerCacheSizeGB,--keyFile");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shardsafe-sandbox: a MongoDB wire-protocol server for tests"};
  app.require_subcommand(1);

  sandbox::ServerOptions server_options;
  std::string dbpath;
  CLI::App* mongod = app.add_subcommand("mongod", "run one member (accepts mongod's flags)");
  add_mongod_flags(*mongod, server_options, dbpath);

  sandbox::UpOptions up_options;
  CLI::App* up = app.add_subcommand("up", "start a replica set and print its URI as JSON");
  up->add_option("--dir", up_options.dir, "directory for data, logs and pid files")->required();
  up->add_option("--replset", up_options.replset, "replica set name");
  up->add_option("--members", up_options.members, "number of members")->check(CLI::Range(1, 7));
  up->add_option("--port", up_options.port, "port of the first member; the others follow")->required();
  up->add_option("--oplog-size-mb", up_options.oplog_size_mb, "oplog size of each member")->check(CLI::PositiveNumber);
  up->add_option("--mongod", up_options.mongod, "path of a real mongod to start instead")->check(CLI::ExistingFile);
  sandbox::mongos::ShardedUpOptions sharded_options;  // --shards N: a sharded cluster instead
  sandbox::mongos::add_sharded_up_flags(*up, sharded_options);
  sandbox::mongos::RouterOptions router_options;
  CLI::App* mongos = sandbox::mongos::add_mongos_verb(app, router_options);

  std::filesystem::path dir;
  int member = 0;
  CLI::App* down = app.add_subcommand("down", "stop every member (SIGTERM, then SIGKILL)");
  down->add_option("--dir", dir, "the directory given to up")->required();
  CLI::App* kill = app.add_subcommand("kill", "SIGKILL one member");
  kill->add_option("--dir", dir, "the directory given to up")->required();
  kill->add_option("--member", member, "member index")->required();
  CLI::App* restart = app.add_subcommand("restart", "start a killed member again");
  restart->add_option("--dir", dir, "the directory given to up")->required();
  restart->add_option("--member", member, "member index")->required();

  CLI11_PARSE(app, argc, argv);
  if (mongod->parsed()) {
    server_options.dbpath = std::filesystem::absolute(dbpath);
    return sandbox::run_member(server_options);
  }
  if (mongos->parsed()) return sandbox::mongos::run_router(router_options);
  if (up->parsed() && sharded_options.shards > 0) return sandbox::mongos::launch_sharded_up(up_options, sharded_options);
  if (up->parsed()) return sandbox::launch_up(up_options);
  if (down->parsed() && sandbox::mongos::is_sharded_dir(dir)) return sandbox::mongos::launch_sharded_down(dir);
  if (down->parsed()) return sandbox::launch_down(dir);
  if (kill->parsed()) return sandbox::launch_kill(dir, member);
  return sandbox::launch_restart(dir, member);
}

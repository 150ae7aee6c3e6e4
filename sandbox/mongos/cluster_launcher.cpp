#include "mongos/cluster_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/bson_util.h"
#include "server/peer.h"
#include "server/process.h"

namespace sandbox::mongos {
namespace {

using namespace std::chrono_literals;
using Json = LaunchJson;
using Clock = std::chrono::steady_clock;

constexpr const char* kConfigSet = "cfg";
constexpr auto kRouterStartDeadline = 30s;
constexpr auto kAddShardDeadline = 60s;
constexpr auto kStopDeadline = 15s;

std::string shard_name(int index) { return "shard" + std::to_string(index); }

struct SetPlan {
  UpOptions options;
  std::string name;
};

// Starts every replica set at once; throws naming the sets that failed (their logs say why).
void start_sets(const std::vector<SetPlan>& plans) {
  std::vector<int> results(plans.size(), 1);
  std::vector<std::thread> starters;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    starters.emplace_back([&, i] { results[i] = launch_up(plans[i].options); });
  }
  for (std::thread& starter : starters) starter.join();
  std::string failed;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (results[i] != 0) failed += (failed.empty() ? "" : ", ") + plans[i].name;
  }
  if (!failed.empty()) throw LaunchError("replica set(s) " + failed + " failed to start");
}

// "rs/h1:p,h2:p" from a replica-set launcher's cluster.json.
std::string set_connection_string(const Json& set) {
  std::string text = set.at("replset").get<std::string>() + "/";
  bool first = true;
  for (const Json& member : set.at("members")) {
    text += (first ? "" : ",") + member.at("host").get<std::string>();
    first = false;
  }
  return text;
}

void add_shard(const std::string& router, const std::string& name, const std::string& connection_string) {
  Builder command;
  BSON_APPEND_UTF8(command.get(), "addShard", connection_string.c_str());
  BSON_APPEND_UTF8(command.get(), "name", name.c_str());
  auto deadline = Clock::now() + kAddShardDeadline;
  std::string last_error = "no reply";
  while (Clock::now() < deadline) {
    if (auto reply = ask(router, command.get(), "admin", 30s)) {
      if (is_ok(*reply)) return;
      last_error = json(reply->bson());
    }
    std::this_thread::sleep_for(200ms);
  }
  throw LaunchError("addShard " + connection_string + " failed: " + last_error);
}

std::vector<std::string> router_argv(const ShardedUpOptions& sharded, int port,
                                     const std::string& configdb, const std::string& log) {
  std::vector<std::string> argv;
  if (sharded.mongos.empty()) {
    argv = {std::filesystem::read_symlink("/proc/self/exe").string(), "mongos"};
  } else {
    argv = {sharded.mongos};
  }
  argv.insert(argv.end(), {"--port", std::to_string(port), "--bind_ip", "127.0.0.1", "--configdb", configdb,
                           "--logpath", log});
  return argv;
}

void check_options(const UpOptions& common, const ShardedUpOptions& sharded) {
  if (sharded.shards < 1 || sharded.shards > 16) throw LaunchError("--shards must be between 1 and 16");
  if (sharded.config_members < 1 || sharded.config_members > 7) throw LaunchError("--config-members must be between 1 and 7");
  if (sharded.mongos_count < 1 || sharded.mongos_count > 8) throw LaunchError("--mongos-count must be between 1 and 8");
  if (common.mongod.empty() != sharded.mongos.empty()) {
    throw LaunchError("give both --mongod and --mongos (real binaries) or neither (the sandbox)");
  }
}

void run_sharded_up(const UpOptions& common, const ShardedUpOptions& sharded, const std::filesystem::path& dir) {
  check_options(common, sharded);
  std::filesystem::create_directories(dir);
  std::vector<SetPlan> plans;
  int next_port = common.port + sharded.mongos_count;
  auto plan = [&](const std::string& name, int members, bool configsvr) {
    UpOptions set = common;
    set.dir = dir / name;
    set.replset = name;
    set.members = members;
    set.port = next_port;
    set.configsvr = configsvr;
    set.shardsvr = !configsvr;
    set.print_json = false;
    next_port += members;
    plans.push_back({set, name});
  };
  plan(kConfigSet, sharded.config_members, true);
  for (int i = 0; i < sharded.shards; ++i) plan(shard_name(i), common.members, false);
  // Recorded before anything starts, so `down` finds whatever did start if start-up fails.
  Json cluster = {{"sharded", true}, {"mongos", Json::array()}, {"sets", Json::array()}};
  for (const SetPlan& p : plans) cluster["sets"].push_back(p.options.dir.string());
  write_json(dir / "cluster.json", cluster);
  start_sets(plans);

  Json config = read_json(dir / kConfigSet / "cluster.json");
  std::string configdb = set_connection_string(config);
  std::string mongos_uri = "mongodb://";
  for (int i = 0; i < sharded.mongos_count; ++i) {
    int port = common.port + i;
    std::string host = "127.0.0.1:" + std::to_string(port);
    std::filesystem::path log = dir / ("mongos-" + std::to_string(i) + ".log");
    auto argv = router_argv(sharded, port, configdb, log.string());
    pid_t pid = spawn_detached(argv, dir / ("mongos-" + std::to_string(i) + ".out"));
    cluster["mongos"].push_back({{"host", host}, {"pid", pid}, {"log", log.string()}});
    write_json(dir / "cluster.json", cluster);
    wait_listening(host, pid, "mongos", kRouterStartDeadline);
    mongos_uri += (i ? "," : "") + host;
  }
  std::string first_router = cluster["mongos"][0]["host"].get<std::string>();
  Json shards = Json::array();
  for (int i = 0; i < sharded.shards; ++i) {
    Json set = read_json(dir / shard_name(i) / "cluster.json");
    add_shard(first_router, shard_name(i), set_connection_string(set));
    Json members = Json::array();
    for (const Json& member : set.at("members")) members.push_back(member.at("host"));
    shards.push_back({{"name", shard_name(i)}, {"uri", set.at("uri")}, {"members", members},
                      {"dir", (dir / shard_name(i)).string()}});
  }
  cluster["mongos_uri"] = mongos_uri;
  cluster["config"] = {{"name", kConfigSet}, {"uri", config.at("uri")}, {"dir", (dir / kConfigSet).string()}};
  cluster["shards"] = shards;
  write_json(dir / "cluster.json", cluster);
  Json printed = {{"mongos_uri", mongos_uri}, {"config", cluster["config"]}, {"shards", shards},
                  {"mongos", cluster["mongos"]}};
  std::cout << printed.dump() << std::endl;
}

}  // namespace

void add_sharded_up_flags(CLI::App& up, ShardedUpOptions& options) {
  up.add_option("--shards", options.shards, "start a sharded cluster with this many shard replica sets")
      ->check(CLI::Range(1, 16));
  up.add_option("--config-members", options.config_members, "members of the config server replica set")
      ->check(CLI::Range(1, 7));
  up.add_option("--mongos-count", options.mongos_count, "number of mongos routers")->check(CLI::Range(1, 8));
  up.add_option("--mongos", options.mongos, "path of a real mongos to start instead")->check(CLI::ExistingFile);
}

CLI::App* add_mongos_verb(CLI::App& app, RouterOptions& options) {
  CLI::App* verb = app.add_subcommand("mongos", "run a router of a sharded cluster (accepts mongos's flags)");
  verb->add_option("--port", options.port, "port to listen on")->check(CLI::Range(1, 65535));
  verb->add_option("--bind_ip", options.bind_ip, "address to listen on");
  verb->add_option("--configdb", options.configdb, "config server replica set: cfg/host:port,...")->required();
  verb->add_option("--logpath", options.logpath, "log file (default: stderr)");
  // Accepted for compatibility with real mongos command lines; they change nothing here.
  verb->add_flag("--logappend,--quiet,--bind_ip_all");
  verb->add_option("--setParameter,--keyFile");
  return verb;
}

int launch_sharded_up(const UpOptions& common, const ShardedUpOptions& sharded) {
  std::filesystem::path dir = std::filesystem::absolute(common.dir);
  try {
    run_sharded_up(common, sharded, dir);
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "shardsafe-sandbox: " << error.what() << "\n";
    if (is_sharded_dir(dir)) launch_sharded_down(dir);
    return 1;
  }
}

bool is_sharded_dir(const std::filesystem::path& dir) {
  try {
    return read_json(dir / "cluster.json").value("sharded", false);
  } catch (const std::exception&) {
    return false;
  }
}

int launch_sharded_down(const std::filesystem::path& dir) {
  try {
    Json cluster = read_json(dir / "cluster.json");
    for (const Json& router : cluster.at("mongos")) {
      stop_process(router.at("pid").get<pid_t>(), router.at("log").get<std::string>(), SIGTERM, kStopDeadline);
    }
    std::vector<std::thread> stoppers;
    std::atomic<int> failures{0};
    for (const Json& set : cluster.at("sets")) {
      std::filesystem::path set_dir = set.get<std::string>();
      if (!std::filesystem::exists(set_dir / "cluster.json")) continue;
      stoppers.emplace_back([set_dir, &failures] {
        if (launch_down(set_dir) != 0) ++failures;
      });
    }
    for (std::thread& stopper : stoppers) stopper.join();
    return failures == 0 ? 0 : 1;
  } catch (const std::exception& error) {
    std::cerr << "shardsafe-sandbox: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace sandbox::mongos

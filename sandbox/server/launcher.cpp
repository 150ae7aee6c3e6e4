#include "server/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/bson_util.h"
#include "server/peer.h"
#include "server/process.h"
#include "server/wire.h"

namespace sandbox {
namespace {

using namespace std::chrono_literals;
using Json = LaunchJson;
using Clock = std::chrono::steady_clock;

constexpr auto kStartDeadline = 30s;
constexpr auto kPrimaryDeadline = 60s;
constexpr auto kStopDeadline = 15s;

std::string self_executable() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

std::vector<std::string> member_argv(const UpOptions& options, const std::string& dbpath,
                                     const std::string& log, int port) {
  std::vector<std::string> argv;
  if (options.mongod.empty()) {
    argv = {self_executable(), "mongod"};
  } else {
    argv = {options.mongod};
  }
  argv.insert(argv.end(), {"--port", std::to_string(port), "--bind_ip", "127.0.0.1", "--dbpath", dbpath,
                           "--replSet", options.replset, "--logpath", log});
  if (options.oplog_size_mb > 0) argv.insert(argv.end(), {"--oplogSize", std::to_string(options.oplog_size_mb)});
  if (options.configsvr) argv.push_back("--configsvr");
  if (options.shardsvr) argv.push_back("--shardsvr");
  return argv;
}

Doc initiate_command(const UpOptions& options) {
  Builder command, config;
  BSON_APPEND_UTF8(config.get(), "_id", options.replset.c_str());
  BSON_APPEND_INT32(config.get(), "version", 1);
  if (options.configsvr) BSON_APPEND_BOOL(config.get(), "configsvr", true);
  bson_t members;
  BSON_APPEND_ARRAY_BEGIN(config.get(), "members", &members);
  for (int i = 0; i < options.members; ++i) {
    bson_t member;
    BSON_APPEND_DOCUMENT_BEGIN(&members, std::to_string(i).c_str(), &member);
    BSON_APPEND_INT32(&member, "_id", i);
    BSON_APPEND_UTF8(&member, "host", ("127.0.0.1:" + std::to_string(options.port + i)).c_str());
    bson_append_document_end(&members, &member);
  }
  bson_append_array_end(config.get(), &members);
  append_doc(command.get(), "replSetInitiate", config.get());
  return command.doc();
}

// Polls every member's hello until one is the writable primary and every other one is a
// SECONDARY: members that have just joined are in STARTUP2 (initial sync) first, and a set
// whose members cannot yet take over is not one a test should start from (a step-down would
// find no electable secondary).
void wait_for_members(const std::vector<std::string>& hosts) {
  auto deadline = Clock::now() + kPrimaryDeadline;
  Builder hello;
  BSON_APPEND_INT32(hello.get(), "hello", 1);
  while (Clock::now() < deadline) {
    int primaries = 0, secondaries = 0;
    for (const std::string& host : hosts) {
      auto reply = ask(host, hello.get(), "admin");
      if (!reply) continue;
      if (get_bool(reply->bson(), "isWritablePrimary", false)) ++primaries;
      if (get_bool(reply->bson(), "secondary", false)) ++secondaries;
    }
    if (primaries == 1 && primaries + secondaries == static_cast<int>(hosts.size())) return;
    std::this_thread::sleep_for(100ms);
  }
  throw LaunchError("the replica set did not have a primary and every other member SECONDARY within 60 s");
}

Json& member_at(Json& cluster, int member) {
  Json& members = cluster.at("members");
  if (member < 0 || member >= static_cast<int>(members.size())) {
    throw LaunchError("no member " + std::to_string(member) + " (the set has " + std::to_string(members.size()) + ")");
  }
  return members[static_cast<std::size_t>(member)];
}

int report(const std::exception& error) {
  std::cerr << "shardsafe-sandbox: " << error.what() << "\n";
  return 1;
}

}  // namespace

int launch_up(const UpOptions& options) {
  try {
    if (options.members < 1 || options.members > 7) throw LaunchError("--members must be between 1 and 7");
    std::filesystem::create_directories(options.dir);
    std::filesystem::path dir = std::filesystem::absolute(options.dir);
    Json cluster = {{"replset", options.replset}, {"members", Json::array()}};
    Json launch = Json::array();
    std::vector<std::string> hosts;
    std::string uri = "mongodb://";
    for (int i = 0; i < options.members; ++i) {
      int port = options.port + i;
      std::string name = options.replset + "-" + std::to_string(i);
      std::filesystem::path dbpath = dir / name;
      std::filesystem::path log = dir / (name + ".log");
      std::filesystem::create_directories(dbpath);
      auto argv = member_argv(options, dbpath.string(), log.string(), port);
      pid_t pid = spawn_detached(argv, dir / (name + ".out"));
      std::string host = "127.0.0.1:" + std::to_string(port);
      hosts.push_back(host);
      uri += (i ? "," : "") + host;
      cluster["members"].push_back({{"host", host}, {"pid", pid}, {"dbpath", dbpath.string()}, {"log", log.string()}});
      launch.push_back(argv);
      std::ofstream(dir / (name + ".pid")) << pid << "\n";
    }
    uri += "/?replicaSet=" + options.replset;
    cluster["uri"] = uri;
    write_json(dir / "launch.json", launch);
    write_json(dir / "cluster.json", cluster);
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      wait_listening(hosts[i], cluster["members"][i]["pid"].get<pid_t>(), "member", kStartDeadline);
    }
    Doc initiate = initiate_command(options);
    auto reply = ask(hosts.front(), initiate.bson(), "admin");
    if (!reply) throw LaunchError("replSetInitiate got no reply from " + hosts.front());
    if (!is_ok(*reply) && get_number(reply->bson(), "code").value_or(0) != 23) {
      throw LaunchError("replSetInitiate failed: " + json(reply->bson()));
    }
    wait_for_members(hosts);
    Json ordered = {{"uri", uri}, {"replset", options.replset}, {"members", cluster["members"]}};
    write_json(dir / "cluster.json", ordered);
    if (options.print_json) std::cout << ordered.dump() << std::endl;
    return 0;
  } catch (const std::exception& error) {
    launch_down(options.dir);
    return report(error);
  }
}

int launch_down(const std::filesystem::path& dir) {
  try {
    Json cluster = read_json(dir / "cluster.json");
    std::vector<std::thread> stoppers;
    for (const Json& member : cluster.at("members")) {
      pid_t pid = member.at("pid").get<pid_t>();
      std::string dbpath = member.at("dbpath").get<std::string>();
      stoppers.emplace_back([pid, dbpath] { stop_process(pid, dbpath, SIGTERM, kStopDeadline); });
    }
    for (std::thread& stopper : stoppers) stopper.join();
    return 0;
  } catch (const std::exception& error) {
    return report(error);
  }
}

int launch_kill(const std::filesystem::path& dir, int member) {
  try {
    Json cluster = read_json(dir / "cluster.json");
    Json& entry = member_at(cluster, member);
    stop_process(entry.at("pid").get<pid_t>(), entry.at("dbpath").get<std::string>(), SIGKILL, 5s);
    return 0;
  } catch (const std::exception& error) {
    return report(error);
  }
}

int launch_restart(const std::filesystem::path& dir, int member) {
  try {
    Json cluster = read_json(dir / "cluster.json");
    Json launch = read_json(dir / "launch.json");
    Json& entry = member_at(cluster, member);
    pid_t old_pid = entry.at("pid").get<pid_t>();
    if (process_alive(old_pid) && process_is(old_pid, entry.at("dbpath").get<std::string>())) {
      throw LaunchError("member " + std::to_string(member) + " is still running (pid " + std::to_string(old_pid) + ")");
    }
    auto argv = launch.at(static_cast<std::size_t>(member)).get<std::vector<std::string>>();
    std::string name = cluster.at("replset").get<std::string>() + "-" + std::to_string(member);
    pid_t pid = spawn_detached(argv, std::filesystem::absolute(dir) / (name + ".out"));
    entry["pid"] = pid;
    std::ofstream(dir / (name + ".pid")) << pid << "\n";
    write_json(dir / "cluster.json", cluster);
    wait_listening(entry.at("host").get<std::string>(), pid, "member", kStartDeadline);
    return 0;
  } catch (const std::exception& error) {
    return report(error);
  }
}

}  // namespace sandbox

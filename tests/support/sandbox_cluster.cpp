#include "support/sandbox_cluster.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

namespace shardsafe::testing {
namespace {

constexpr int kStartAttempts = 4;  // another process may take one of the ports we picked

std::filesystem::path sandbox_binary() { return build_dir() / "shardsafe-sandbox"; }

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

bool port_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

// The first of `count` consecutive free loopback ports, from a random start so parallel
// tests rarely collide (and a collision is retried by the caller).
int free_port_block(int count) {
  std::random_device seed;
  std::uniform_int_distribution<int> start(20000, 60000 - count);
  for (int attempt = 0; attempt < 200; ++attempt) {
    int base = start(seed);
    bool all_free = true;
    for (int port = base; port < base + count && all_free; ++port) all_free = port_free(port);
    if (all_free) return base;
  }
  throw std::runtime_error("no block of " + std::to_string(count) + " free loopback ports");
}

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

bool SandboxShardedCluster::real_binaries_available() {
  return !env_or_empty("SHARDSAFE_MONGOD").empty() && !env_or_empty("SHARDSAFE_MONGOS").empty();
}

void SandboxShardedCluster::run_launcher(const std::vector<std::string>& args, std::string* output) const {
  std::string command = quoted(sandbox_binary().string());
  for (const std::string& arg : args) command += " " + quoted(arg);
  std::filesystem::path errors = temp_.path() / "launcher.err";
  command += " 2>" + quoted(errors.string());
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::array<char, 4096> buffer{};
  std::string text;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) text.append(buffer.data(), n);
  int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(errors);
    std::string message((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    throw std::runtime_error("shardsafe-sandbox " + args.front() + " failed: " + message);
  }
  if (output) *output = text;
}

SandboxShardedCluster::SandboxShardedCluster(Options options)
    : dir_(temp_.path()), real_binaries_(real_binaries_available()) {
  int port_count = 1 + options.config_members + options.shards * options.members;
  std::string output, last_error;
  for (int attempt = 0; attempt < kStartAttempts && output.empty(); ++attempt) {
    std::vector<std::string> args = {"up", "--dir", (temp_.path() / ("attempt" + std::to_string(attempt))).string(),
                                     "--shards", std::to_string(options.shards), "--members",
                                     std::to_string(options.members), "--config-members",
                                     std::to_string(options.config_members), "--port",
                                     std::to_string(free_port_block(port_count))};
    if (real_binaries_) {
      args.insert(args.end(), {"--mongod", env_or_empty("SHARDSAFE_MONGOD"), "--mongos", env_or_empty("SHARDSAFE_MONGOS")});
    }
    try {
      run_launcher(args, &output);
      dir_ = args[2];
    } catch (const std::runtime_error& error) {
      last_error = error.what();
      output.clear();
    }
  }
  if (output.empty()) throw std::runtime_error(last_error);
  auto cluster = nlohmann::json::parse(output);
  mongos_uri_ = cluster.at("mongos_uri").get<std::string>();
  config_uri_ = cluster.at("config").at("uri").get<std::string>();
  for (const auto& shard : cluster.at("shards")) {
    shard_names_.push_back(shard.at("name").get<std::string>());
    shard_uris_.push_back(shard.at("uri").get<std::string>());
    shard_members_.push_back(shard.at("members").get<std::vector<std::string>>());
  }
}

SandboxShardedCluster::~SandboxShardedCluster() {
  try {
    run_launcher({"down", "--dir", dir_.string()}, nullptr);
  } catch (const std::exception&) {
    // Nothing to report from a destructor; `down` already tried SIGTERM then SIGKILL.
  }
}

void SandboxShardedCluster::kill_member(int shard, int member) {
  run_launcher({"kill", "--dir", (dir_ / shard_names_.at(static_cast<std::size_t>(shard))).string(), "--member",
                std::to_string(member)},
               nullptr);
}

void SandboxShardedCluster::restart_member(int shard, int member) {
  run_launcher({"restart", "--dir", (dir_ / shard_names_.at(static_cast<std::size_t>(shard))).string(), "--member",
                std::to_string(member)},
               nullptr);
}

}  // namespace shardsafe::testing

// `shardsafe server` as a child process, as an operator runs it: a config file, a token file and
// a data directory in a temporary directory; stderr kept in <dir>/server.log; stopped with
// SIGTERM (or killed with SIGKILL by a test) and started again on the same files.
#pragma once

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mongo/client.h"
#include "support/agent_process.h"
#include "support/daemon_process.h"
#include "support/sandbox.h"

namespace shardsafe::testing {

class ServerProcess {
 public:
  // Writes <dir>/token and <dir>/server.yaml: `clusters_yaml` is the YAML under `clusters:`,
  // `storage_yaml` the `storage:` map and `server_yaml` more of the `server:` map (each line
  // indented by two spaces).
  ServerProcess(std::filesystem::path dir, const std::string& storage_yaml, const std::string& clusters_yaml,
                const std::string& server_yaml = "")
      : dir_(std::move(dir)) {
    token_ = write_token_file(dir_ / "token");
    std::ofstream(config_path()) << "server:\n  listen: 127.0.0.1:0\n  token_file: " << (dir_ / "token").string()
                                 << "\n  data_dir: " << (dir_ / "data").string() << "\n"
                                 << server_yaml << "storage:\n"
                                 << storage_yaml << "clusters:\n"
                                 << clusters_yaml;
    launch();
  }
  ~ServerProcess() { kill_hard(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::filesystem::path config_path() const { return dir_ / "server.yaml"; }
  std::filesystem::path log_path() const { return dir_ / "server.log"; }
  const std::string& token() const { return token_; }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // A client that carries the token.
  httplib::Client client() const {
    httplib::Client client(base_url());
    client.set_bearer_token_auth(token_);
    client.set_read_timeout(30, 0);
    return client;
  }

  // Starts the server on the files; SIGTERM gives running jobs `shutdown_grace_s` seconds.
  void launch(int shutdown_grace_s = 20) {
    // Debug logging: the tests that check what is never logged see every line there is.
    const StartedDaemon started = start_daemon({(build_dir() / "shardsafe").string(), "--json", "--log-level", "debug", "server", "--config",
                                                config_path().string(), "--shutdown-grace", std::to_string(shutdown_grace_s)},
                                               log_path().string());
    pid_ = started.pid;
    try {
      const std::string address = nlohmann::json::parse(started.first_line).at("listening");
      port_ = std::stoi(address.substr(address.rfind(':') + 1));
    } catch (const std::exception&) {
      kill_hard();
      throw std::runtime_error("the server did not start (see " + log_path().string() + "): " + started.first_line);
    }
  }

  // SIGTERM; returns the exit status once the process is gone.
  int terminate() {
    ::kill(pid_, SIGTERM);
    return wait_exit();
  }
  void kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait_exit();
  }
  std::string log() const {
    std::ifstream file(log_path());
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }

 private:
  int wait_exit() {
    const int status = wait_for_exit(pid_);
    pid_ = -1;
    return status;
  }

  std::filesystem::path dir_;
  std::string token_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// GET `path` (with the token) as JSON; fails the test on a transport error.
inline nlohmann::json get_json(const ServerProcess& server, const std::string& path, int* status = nullptr) {
  auto answer = server.client().Get(path);
  if (!answer) throw std::runtime_error("GET " + path + " failed");
  if (status) *status = answer->status;
  return nlohmann::json::parse(answer->body);
}

// POST `body` to `path`; the answer's status and JSON.
inline std::pair<int, nlohmann::json> post_json(const ServerProcess& server, const std::string& path, const std::string& body) {
  auto answer = server.client().Post(path, body, "application/json");
  if (!answer) throw std::runtime_error("POST " + path + " failed");
  return {answer->status, nlohmann::json::parse(answer->body)};
}

// Polls job `id` until it is no longer queued or running (up to `limit`); returns it.
inline nlohmann::json wait_for_job(const ServerProcess& server, std::int64_t id, std::chrono::seconds limit = std::chrono::seconds(120)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    auto job = get_json(server, "/api/v1/jobs/" + std::to_string(id));
    if (job["state"] != "queued" && job["state"] != "running") return job;
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("job " + std::to_string(id) + " did not finish: " + job.dump());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// `count` documents {_id: i, name} into shop.items of the set at `uri`.
inline void insert_items(const std::string& uri, int count) {
  mongo::Client client{mongo::Uri(uri)};
  std::vector<mongo::Bson> owned;
  for (int i = 0; i < count; ++i) owned.push_back(mongo::BsonBuilder().append("_id", i).append("name", "item " + std::to_string(i)).build());
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& doc : owned) raw.push_back(doc.bytes());
  client.insert_many("shop", "items", raw, true, mongo::BsonBuilder().append("w", "majority").build());
}

inline std::int64_t count_items(const std::string& uri) {
  mongo::Client client{mongo::Uri(uri)};
  const auto answer = client.command("shop", mongo::BsonBuilder().append("count", "items").build());
  return mongo::BsonView(answer).integer("n").value_or(-1);
}

inline std::string file_storage(const std::filesystem::path& root) { return "  url: file://" + root.string() + "\n"; }

inline std::string cluster_yaml(const std::string& name, const std::string& uri, const std::string& extra = "") {
  return "  " + name + ":\n    uri: \"" + uri + "\"\n" + extra;
}

}  // namespace shardsafe::testing

// Process plumbing shared by the launchers (replica sets in server/launcher.cpp, sharded
// clusters in mongos/cluster_launcher.cpp): starting detached servers, waiting until they
// answer, stopping them, and the JSON files that record what was started.
#pragma once

#include <bson/bson.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "query/document.h"

namespace sandbox {

// Launch failures; the launcher verbs print them and exit non-zero.
class LaunchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ordered_json keeps the documented key order of cluster.json.
using LaunchJson = nlohmann::ordered_json;

// Starts argv[0] with argv as a detached process (own session, stdin /dev/null, stdout and
// stderr appended to `log_path`). Returns its pid.
pid_t spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& log_path);

// A process is gone when kill(0) fails or it is a zombie nobody reaped yet.
bool process_alive(pid_t pid);

// Whether `pid` is still the process we started, not a recycled pid: its command line contains
// `marker` (a member's dbpath, a router's log file).
bool process_is(pid_t pid, const std::string& marker);

// Sends `signal_number` to the process if it is still ours, waits up to `deadline` for it to
// exit, then kills it.
void stop_process(pid_t pid, const std::string& marker, int signal_number, std::chrono::seconds deadline);

// Runs one command on `host` over a fresh connection; nullopt when it cannot be reached or
// does not answer within `timeout`.
std::optional<Doc> ask(const std::string& host, const bson_t* command, const char* db,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Waits until `host` answers hello; throws LaunchError naming `what` when the process exits
// first or `deadline` passes.
void wait_listening(const std::string& host, pid_t pid, const std::string& what, std::chrono::seconds deadline);

LaunchJson read_json(const std::filesystem::path& path);
// Written to a temporary file and renamed, so readers never see half a file.
void write_json(const std::filesystem::path& path, const LaunchJson& value);

}  // namespace sandbox

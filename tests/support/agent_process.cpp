#include "support/agent_process.h"

#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "support/daemon_process.h"
#include "support/sandbox.h"

namespace shardsafe::testing {

AgentProcess::AgentProcess(std::filesystem::path data_dir, std::filesystem::path token_file, std::string mongod)
    : AgentProcess(std::move(data_dir), std::move(token_file), std::move(mongod), "", "") {}

AgentProcess::AgentProcess(std::filesystem::path data_dir, std::filesystem::path token_file, std::string mongod,
                           std::string tls_cert, std::string tls_key)
    : data_dir_(std::move(data_dir)),
      token_file_(std::move(token_file)),
      mongod_(std::move(mongod)),
      tls_cert_(std::move(tls_cert)),
      tls_key_(std::move(tls_key)) {
  launch("127.0.0.1:0");
}

AgentProcess::~AgentProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  wait_for_exit(pid_);
}

void AgentProcess::launch(const std::string& listen) {
  std::filesystem::create_directories(data_dir_);
  const std::string binary = (build_dir() / "shardsafe").string();
  const std::string log = (data_dir_ / "agent.log").string();
  std::vector<std::string> argv = {binary, "agent", "--json", "--listen", listen, "--data-dir", data_dir_.string(),
                                   "--token-file", token_file_.string()};
  if (!mongod_.empty()) {
    argv.push_back("--mongod-uri");
    argv.push_back("mongodb://" + mongod_ + "/?directConnection=true");
  }
  if (!tls_cert_.empty()) argv.insert(argv.end(), {"--tls-cert", tls_cert_, "--tls-key", tls_key_});
  const StartedDaemon started = start_daemon(argv, log);
  pid_ = started.pid;
  const std::string& line = started.first_line;
  try {
    address_ = nlohmann::json::parse(line).at("listening").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    kill_hard();  // the destructor will not run for a constructor that throws
    throw std::runtime_error("the agent did not start (see " + log + "): " + line);
  }
}

void AgentProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_for_exit(pid_);
  pid_ = -1;
}

void AgentProcess::restart() {
  if (pid_ > 0) kill_hard();
  launch(address_);
}

void AgentProcess::pause() { ::kill(pid_, SIGSTOP); }

void AgentProcess::resume() { ::kill(pid_, SIGCONT); }

std::string write_token_file(const std::filesystem::path& path) {
  std::random_device device;
  std::string token;
  for (int i = 0; i < 4; ++i) token += std::to_string(device());
  std::ofstream(path) << token << "\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return token;
}

}  // namespace shardsafe::testing

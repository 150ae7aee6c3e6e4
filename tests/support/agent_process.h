// `shardsafe agent` as a child process, as an operator runs it beside a mongod: started on a
// free loopback port with a token file and a data directory, stopped with SIGTERM (or killed
// with SIGKILL by a test) and restarted on the same port and data directory.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace shardsafe::testing {

class AgentProcess {
 public:
  // `mongod` is "host:port" of the member it runs beside (empty: no --mongod-uri). Throws
  // std::runtime_error when the agent does not report its address.
  AgentProcess(std::filesystem::path data_dir, std::filesystem::path token_file, std::string mongod);
  // The same, serving HTTPS with this PEM certificate and key.
  AgentProcess(std::filesystem::path data_dir, std::filesystem::path token_file, std::string mongod, std::string tls_cert,
               std::string tls_key);
  ~AgentProcess();  // SIGTERM, then waits
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  const std::string& address() const { return address_; }  // "127.0.0.1:P"
  const std::filesystem::path& data_dir() const { return data_dir_; }
  void kill_hard();  // SIGKILL and wait: the agent dies mid-whatever
  void restart();    // the same port and data directory
  // SIGSTOP / SIGCONT: an agent that hangs (and comes back). Resume before destruction.
  void pause();
  void resume();

 private:
  void launch(const std::string& listen);

  std::filesystem::path data_dir_;
  std::filesystem::path token_file_;
  std::string mongod_;
  std::string tls_cert_;
  std::string tls_key_;
  std::string address_;
  pid_t pid_ = -1;
};

// Writes a random token to `path` (mode 600) and returns it.
std::string write_token_file(const std::filesystem::path& path);

}  // namespace shardsafe::testing

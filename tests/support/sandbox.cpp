#include "support/sandbox.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

namespace shardsafe::testing {
namespace {

constexpr int kLaunchAttempts = 5;

// Binds 127.0.0.1:port and releases it: true when nobody listens there now.
bool port_is_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return free;
}

// A base port P such that P..P+count-1 are free right now. The kernel's ephemeral range is
// avoided (ports there are handed to outgoing connections); collisions with other tests that
// pick the same range at the same time are caught by the launcher and retried.
int free_port_range(int count) {
  static thread_local std::mt19937 generator{std::random_device{}() ^ static_cast<unsigned>(getpid())};
  std::uniform_int_distribution<int> base(20000, 31000);
  for (int attempt = 0; attempt < 200; ++attempt) {
    int port = base(generator);
    bool all_free = true;
    for (int i = 0; i < count && all_free; ++i) all_free = port_is_free(port + i);
    if (all_free) return port;
  }
  throw std::runtime_error("no free range of " + std::to_string(count) + " loopback ports");
}

// Runs argv, returns its exit status; stdout and stderr go to `output`.
int run(const std::vector<std::string>& argv, std::string* output) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  ::close(pipe_fds[1]);
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0 && output != nullptr) output->append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::filesystem::path build_dir() {
  const char* dir = std::getenv("SHARDSAFE_BUILD_DIR");
  if (dir == nullptr || *dir == '\0') {
    throw std::runtime_error("SHARDSAFE_BUILD_DIR is not set (run the tests through ctest)");
  }
  return dir;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "shardsafe-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

SandboxReplSet::SandboxReplSet(Options options) : options_(std::move(options)) {
  std::string last_output;
  for (int attempt = 0; attempt < kLaunchAttempts; ++attempt) {
    int port = free_port_range(options_.members);
    std::vector<std::string> args = {"up", "--dir", (dir_.path() / ("set-" + std::to_string(attempt))).string(),
                                     "--replset", options_.name, "--members", std::to_string(options_.members),
                                     "--port", std::to_string(port), "--oplog-size-mb",
                                     std::to_string(options_.oplog_size_mb)};
    if (const char* mongod = std::getenv("SHARDSAFE_MONGOD"); mongod != nullptr && *mongod != '\0') {
      args.insert(args.end(), {"--mongod", mongod});
    }
    last_output.clear();
    try {
      run_launcher(args, &last_output);
    } catch (const std::runtime_error&) {
      continue;  // most likely a port taken meanwhile: try another range
    }
    auto cluster = nlohmann::json::parse(last_output.substr(last_output.find('{')));
    uri_ = cluster.at("uri").get<std::string>();
    for (const auto& member : cluster.at("members")) hosts_.push_back(member.at("host").get<std::string>());
    launch_dir_ = dir_.path() / ("set-" + std::to_string(attempt));
    return;
  }
  throw std::runtime_error("could not start a sandbox replica set: " + last_output);
}

SandboxReplSet::~SandboxReplSet() {
  if (launch_dir_.empty()) return;
  try {
    run_launcher({"down", "--dir", launch_dir_.string()}, nullptr);
  } catch (const std::exception&) {
    // Destructors must not throw; `down` already escalated to SIGKILL where it could.
  }
}

std::string SandboxReplSet::member_uri(int i) const {
  return "mongodb://" + hosts_.at(static_cast<std::size_t>(i)) + "/?directConnection=true";
}

void SandboxReplSet::kill_member(int i) {
  run_launcher({"kill", "--dir", launch_dir_.string(), "--member", std::to_string(i)}, nullptr);
}

void SandboxReplSet::restart_member(int i) {
  run_launcher({"restart", "--dir", launch_dir_.string(), "--member", std::to_string(i)}, nullptr);
}

void SandboxReplSet::run_launcher(const std::vector<std::string>& args, std::string* output) {
  std::vector<std::string> argv = {(build_dir() / "shardsafe-sandbox").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string captured;
  int status = run(argv, &captured);
  if (output != nullptr) *output = captured;
  if (status != 0) {
    throw std::runtime_error("shardsafe-sandbox " + args.front() + " failed (exit " + std::to_string(status) +
                             "): " + captured);
  }
}

}  // namespace shardsafe::testing

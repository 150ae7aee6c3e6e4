#include "server/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "server/bson_util.h"
#include "server/peer.h"
#include "server/wire.h"

namespace sandbox {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

pid_t spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& log_path) {
  pid_t pid = fork();
  if (pid < 0) throw LaunchError("fork failed");
  if (pid == 0) {
    setsid();
    int null_fd = open("/dev/null", O_RDONLY);
    int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    if (log_fd >= 0) {
      dup2(log_fd, STDOUT_FILENO);
      dup2(log_fd, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

bool process_alive(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) return false;  // our own child, now reaped
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string skip, state;
  stat >> skip >> skip >> state;
  return state != "Z";
}

bool process_is(pid_t pid, const std::string& marker) {
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
  return text.find(marker) != std::string::npos;
}

void stop_process(pid_t pid, const std::string& marker, int signal_number, std::chrono::seconds deadline) {
  if (!process_alive(pid) || !process_is(pid, marker)) return;
  kill(pid, signal_number);
  auto until = Clock::now() + deadline;
  while (process_alive(pid) && Clock::now() < until) std::this_thread::sleep_for(50ms);
  if (process_alive(pid)) {
    kill(pid, SIGKILL);
    while (process_alive(pid)) std::this_thread::sleep_for(20ms);
  }
}

std::optional<Doc> ask(const std::string& host, const bson_t* command, const char* db,
                       std::chrono::milliseconds timeout) {
  PeerConnection peer;
  if (!peer.connect(host, 500ms)) return std::nullopt;
  try {
    return peer.run(with_db(command, db), timeout);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void wait_listening(const std::string& host, pid_t pid, const std::string& what, std::chrono::seconds deadline) {
  const auto until = Clock::now() + deadline;
  Builder hello;
  BSON_APPEND_INT32(hello.get(), "hello", 1);
  while (Clock::now() < until) {
    if (ask(host, hello.get(), "admin")) return;
    if (!process_alive(pid)) throw LaunchError(what + " " + host + " exited during start-up (see its log)");
    std::this_thread::sleep_for(50ms);
  }
  throw LaunchError(what + " " + host + " did not accept connections within " + std::to_string(deadline.count()) + " s");
}

LaunchJson read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw LaunchError("cannot read " + path.string() + " (was `up` run with this --dir?)");
  return LaunchJson::parse(in);
}

void write_json(const std::filesystem::path& path, const LaunchJson& value) {
  std::filesystem::path temp = path;
  temp += ".tmp";
  std::ofstream(temp) << value.dump() << "\n";
  std::filesystem::rename(temp, path);
}

}  // namespace sandbox

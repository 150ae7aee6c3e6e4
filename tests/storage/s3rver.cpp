#include "storage/s3rver.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

namespace shardsafe::storage::testing {
namespace {

// Reads one line from `fd`, waiting at most until `deadline`.
std::string read_line(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string line;
  while (line.empty() || line.back() != '\n') {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("s3rver did not report its port in time");
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char c;
    if (::read(fd, &c, 1) != 1) throw std::runtime_error("s3rver exited before reporting its port: " + line);
    line += c;
  }
  return line;
}

}  // namespace

std::string source_dir() { return SHARDSAFE_SOURCE_DIR; }

SelfSignedCertificate::SelfSignedCertificate() {
  const auto command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                       "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:*.s3.localhost "
                       "-keyout " + key_file() + " -out " + certificate_file() + " 2>/dev/null";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl could not make a certificate: " + command);
}

S3rver::S3rver(const std::string& bucket, const SelfSignedCertificate* tls)
    : bucket_(bucket), scheme_(tls != nullptr ? "https" : "http") {
  int to_child[2];
  int from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its
  // legacy provider.
  std::vector<std::string> arguments{"node", "--openssl-legacy-provider",
                                     source_dir() + "/tests/node/s3rver_launcher.mjs", data_.path().string(), bucket};
  if (tls != nullptr) {
    arguments.push_back(tls->certificate_file());
    arguments.push_back(tls->key_file());
  }
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(to_child[0], STDIN_FILENO);
    ::dup2(from_child[1], STDOUT_FILENO);
    ::execvp("node", argv.data());
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  stdin_fd_ = to_child[1];
  const auto line = read_line(from_child[0], std::chrono::steady_clock::now() + std::chrono::seconds(30));
  ::close(from_child[0]);
  const auto colon = line.find(':');
  port_ = std::stoi(line.substr(colon + 1));
}

S3rver::~S3rver() {
  ::close(stdin_fd_);  // the launcher exits when its stdin closes
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string S3rver::url(const std::string& prefix, const std::string& extra_parameters) const {
  return "s3://" + bucket_ + "/" + prefix + "?endpoint=" + endpoint() +
         "&region=us-east-1&path_style=true&access_key=" + kS3rverAccessKey + "&secret_key=" + kS3rverSecretKey +
         extra_parameters;
}

}  // namespace shardsafe::storage::testing

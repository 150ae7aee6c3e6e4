// A fault-injecting HTTP relay for loopback tests: sits between the S3 driver and s3rver and,
// per the rules given, answers 500, 503 SlowDown or 403 AccessDenied, drops the connection, stalls, or cuts
// the response body short. Requests no rule matches are relayed unchanged (one request per
// connection: the relay sets "Connection: close" upstream).
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace shardsafe::storage::testing {

enum class Fault { kNone, kInternalError, kSlowDown, kAccessDenied, kDrop, kStall, kTruncateBody };

struct FaultRule {
  Fault fault;
  std::string method;           // "" matches any
  std::string target_contains;  // "" matches any; else a substring of the request target
  int times = 1;                // how many matching requests get the fault; -1 forever
};

class FaultProxy {
 public:
  explicit FaultProxy(int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void add(FaultRule rule);
  int faults_injected() const { return injected_; }
  // How many requests so far had this method ("" for any) and a target containing
  // `target_contains`.
  int requests_seen(const std::string& method, const std::string& target_contains);
  // Their header blocks (request line included), in arrival order.
  std::vector<std::string> request_heads(const std::string& method, const std::string& target_contains);

 private:
  void accept_loop();
  void serve(int client);
  Fault next_fault(const std::string& head, const std::string& method, const std::string& target);

  int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> injected_{0};
  std::mutex mutex_;
  std::vector<FaultRule> rules_;    // GUARDED_BY(mutex_)
  std::vector<std::string> seen_;   // GUARDED_BY(mutex_): the header block of every request
  std::vector<int> clients_;        // GUARDED_BY(mutex_): open client sockets
  std::vector<std::thread> threads_;  // GUARDED_BY(mutex_)
  std::thread acceptor_;
};

}  // namespace shardsafe::storage::testing

// The coordinator's side of the agent protocol (agent/http_server.h): a JobService whose jobs
// run in `shardsafe agent` on a database host.
#pragma once

#include <memory>
#include <string>

#include "agent/job_service.h"

namespace httplib {
class Client;
}

namespace shardsafe::agent {

struct AgentEndpoint {
  std::string address;  // "host:port", or "https://host:port" for an agent with TLS
  std::string token;
  std::string ca_file;  // PEM bundle that signed an https agent's certificate; empty: the system's
};

class AgentClient : public JobService {
 public:
  explicit AgentClient(AgentEndpoint endpoint);
  ~AgentClient() override;

  JobStatus start(const JobSpec& spec) override;
  JobStatus status(const std::string& id) override;
  std::vector<JobStatus> list() override;
  void cancel(const std::string& id) override;
  void resume(const std::string& id, const nlohmann::json& decision) override;
  std::string describe() const override { return "agent " + endpoint_.address; }

  // GET /v1/health: {"ok", "version", "mongod": {"me", "set", "writable_primary"}}.
  nlohmann::json health();

 private:
  // Sends the request and returns the answer's JSON. Errors: Error(kConnection) naming the
  // agent when it cannot be reached; Error(kUnauthorized) for 401; otherwise the error the
  // agent answered with, prefixed with the agent's address.
  nlohmann::json call(const std::string& method, const std::string& path, const nlohmann::json* body);

  AgentEndpoint endpoint_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace shardsafe::agent

// `shardsafe agent`'s HTTP/JSON endpoint over a JobService (the agent's JobRunner).
//
//   GET  /v1/health                 {"ok": true, "version", "mongod": {"me", "set", "writable_primary"}}
//   POST /v1/jobs                   {"id", "kind", "params"} -> the job's status (idempotent by id)
//   GET  /v1/jobs                   [status, ...]
//   GET  /v1/jobs/{id}              status (see agent/job.h), 404 when unknown
//   POST /v1/jobs/{id}/cancel       -> status
//   POST /v1/jobs/{id}/resume       {"decision": {...}} -> status; 409 unless awaiting
// Every request needs `Authorization: Bearer <token>`, compared in constant time; without it
// the answer is 401 and nothing runs. Errors are {"error": <stable name>, "message"} with the
// HTTP status of the error table (common/error.h). Request bodies are limited to 64 MiB.
#pragma once

#include <memory>
#include <string>

#include "agent/job_service.h"

namespace httplib {
class Server;
}

namespace shardsafe::agent {

struct AgentServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;            // 0: any free port (see port())
  std::string token;       // required, not empty
  std::string tls_cert;    // PEM files; both or neither
  std::string tls_key;
  std::string mongod_uri;  // the node this agent runs beside, reported by /v1/health
};

class AgentServer {
 public:
  // Binds the port; Error(kInvalidArgument) for an empty token or half a TLS pair,
  // Error(kConnection) when the address cannot be bound.
  AgentServer(JobService& jobs, AgentServerOptions options);
  ~AgentServer();
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  int port() const { return port_; }
  // Serves requests until stop() is called (from another thread).
  void run();
  void stop();

 private:
  void add_routes();
  nlohmann::json health() const;

  JobService& jobs_;
  AgentServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

}  // namespace shardsafe::agent

// The control plane's HTTP endpoint: the REST API under /api/v1, /metrics, /healthz and the
// dashboard (its files compiled into the binary).
//
//   GET    /healthz                           {"ok": true, "version"}               (no token)
//   GET    /, /app.js, /style.css             the dashboard                         (no token)
//   GET    /metrics                           Prometheus text (metrics.h)
//   GET    /api/v1/clusters                   [{"name", "topology", "schedule", "retention", "busy_job", ...}]
//   GET    /api/v1/clusters/{name}/backups    {"backups": [newest first], "next", "total", "timeline"}
//                                             ?limit=N (1-1000, default 100) &after=ID (the page after ID)
//   POST   /api/v1/clusters/{name}/backups    {"kind": "full"|"incremental"}            -> 202 {"job": ID}
//   POST   /api/v1/clusters/{name}/restores   {"backup"|"to_time", "drop", "ns_include"} -> 202 {"job": ID}
//   GET    /api/v1/jobs                       {"jobs": [newest first]}  ?limit=N &before=ID
//   GET    /api/v1/jobs/{id}                  the job (job_store.h to_json)
//   DELETE /api/v1/jobs/{id}                  cancels it -> the job
//   DELETE /api/v1/backups/{id}               removes the backup from its cluster's storage
// Every other route needs `Authorization: Bearer <token>` (compared in constant time): 401
// without it. Errors are {"error": <stable name>, "message"} with the status of the error
// table; a second job on a busy cluster is 409 naming the running job. Request bodies are
// limited to 64 KiB; unknown fields are refused with 400 naming them.
#pragma once

#include <memory>
#include <string>

#include "server/catalog_cache.h"
#include "server/config.h"
#include "server/job_manager.h"
#include "server/job_store.h"

namespace httplib {
class Server;
}

namespace shardsafe::server {

struct ApiParts {
  const ServerConfig& config;
  JobStore& store;
  JobManager& jobs;
  CatalogCache& catalogs;
};

class ApiServer {
 public:
  // Binds config.host:config.port (port 0: any free port). Error(kConnection) when it cannot,
  // Error(kInvalidArgument) for unusable TLS files.
  explicit ApiServer(ApiParts parts);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  int port() const { return port_; }
  void run();   // serves until stop()
  void stop();

 private:
  void add_routes();
  void add_cluster_routes();
  void add_job_routes();
  void add_static_routes();

  ApiParts parts_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

}  // namespace shardsafe::server

// `shardsafe server`: the control plane's parts, started and stopped in order.
//
// Start: the job history (<data_dir>/jobs.db; jobs a previous run left running are recorded
// failed, "interrupted"), the catalog cache, the job manager, the HTTP endpoint (bound), then
// the scheduler (which runs missed backups at once). Stop: the endpoint and the scheduler, then
// the running jobs get `grace` to reach a safe point (job_manager.h).
#pragma once

#include <chrono>
#include <memory>

#include "server/api.h"
#include "server/catalog_cache.h"
#include "server/config.h"
#include "server/job_manager.h"
#include "server/job_store.h"
#include "server/scheduler.h"

namespace shardsafe::server {

class Service {
 public:
  explicit Service(ServerConfig config);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  int port() const { return api_.port(); }
  void run();  // serves requests until stop()
  // Returns whether every running job stopped within `grace`.
  bool stop(std::chrono::seconds grace);

 private:
  ServerConfig config_;
  std::unique_ptr<JobStore> store_;
  CatalogCache catalogs_;
  JobManager jobs_;
  ApiServer api_;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace shardsafe::server

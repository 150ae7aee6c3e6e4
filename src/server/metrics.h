// GET /metrics: Prometheus text exposition (version 0.0.4) of the server's figures.
//
//   shardsafe_last_success_timestamp_seconds{cluster,kind}  newest successful job's end
//   shardsafe_last_duration_seconds{cluster,kind}           its duration
//   shardsafe_last_backup_bytes{cluster,kind}               bytes it stored (backups)
//   shardsafe_job_failures_total{cluster,kind}              failed jobs in the history
//   shardsafe_pitr_lag_seconds{cluster}                     now - the newest restorable point
//                                                           (from the cached listing, catalog_cache.h;
//                                                           absent when the storage cannot be listed)
//   shardsafe_jobs_running                                   jobs under way
// `kind` is full, incremental or restore.
#pragma once

#include <string>

#include "server/catalog_cache.h"
#include "server/job_manager.h"
#include "server/job_store.h"

namespace shardsafe::server {

std::string render_metrics(const ServerConfig& config, JobStore& store, JobManager& jobs, CatalogCache& catalogs);

}  // namespace shardsafe::server

#include "server/metrics.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace shardsafe::server {
namespace {

// A label value as the exposition format escapes it.
std::string label(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void per_kind(std::string& out, const std::vector<KindStats>& stats, const char* name, const char* type, const char* help,
              double (*value)(const KindStats&)) {
  header(out, name, type, help);
  for (const auto& row : stats) out += fmt::format("{}{{cluster=\"{}\",kind=\"{}\"}} {}\n", name, label(row.cluster), label(row.kind), value(row));
}

// Seconds from the newest restorable point of `listing` to now; negative when none.
double pitr_lag(const ClusterListing& listing) {
  std::uint32_t newest = 0;
  for (const auto& window : listing.timeline.windows) newest = std::max(newest, window.to.seconds);
  if (newest == 0) return -1;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return static_cast<double>(now - newest);
}

}  // namespace

std::string render_metrics(const ServerConfig& config, JobStore& store, JobManager& jobs, CatalogCache& catalogs) {
  const auto stats = store.stats();
  std::string out;
  per_kind(out, stats, "shardsafe_last_success_timestamp_seconds", "gauge", "Unix time the newest successful job of this kind ended.",
           [](const KindStats& row) { return static_cast<double>(row.last_success_unix); });
  per_kind(out, stats, "shardsafe_last_duration_seconds", "gauge", "Duration of the newest successful job of this kind.",
           [](const KindStats& row) { return row.last_duration_s; });
  per_kind(out, stats, "shardsafe_last_backup_bytes", "gauge", "Bytes stored by the newest successful backup of this kind.",
           [](const KindStats& row) { return static_cast<double>(row.last_bytes); });
  per_kind(out, stats, "shardsafe_job_failures_total", "counter", "Jobs of this kind that failed.",
           [](const KindStats& row) { return static_cast<double>(row.failures); });
  header(out, "shardsafe_pitr_lag_seconds", "gauge", "Seconds since the newest point in time the cluster can be restored to.");
  for (const auto& [name, cluster] : config.clusters) {
    std::shared_ptr<const ClusterListing> listing;
    try {
      listing = catalogs.get(name);
    } catch (const Error& error) {
      spdlog::warn("server: /metrics: cannot list the backups of cluster \"{}\": {}", name, error.what());
      continue;
    }
    const double lag = pitr_lag(*listing);
    if (lag >= 0) out += fmt::format("shardsafe_pitr_lag_seconds{{cluster=\"{}\"}} {}\n", label(name), lag);
  }
  header(out, "shardsafe_jobs_running", "gauge", "Jobs under way.");
  out += fmt::format("shardsafe_jobs_running {}\n", jobs.running());
  return out;
}

}  // namespace shardsafe::server

#include "server/service.h"

#include <spdlog/spdlog.h>

#include <filesystem>

namespace shardsafe::server {
namespace {

// How long a cluster's listing is reused before the storage is listed again; every job's end
// and every deletion refresh it sooner.
constexpr std::chrono::seconds kListingTimeToLive{60};

std::unique_ptr<JobStore> open_store(const std::string& data_dir) {
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) throw Error(ErrorCode::kInvalidArgument, "cannot create the data directory \"" + data_dir + "\": " + error.message());
  auto store = std::make_unique<JobStore>((std::filesystem::path(data_dir) / "jobs.db").string());
  if (const int interrupted = store->mark_interrupted()) spdlog::warn("server: {} jobs were interrupted by the last stop", interrupted);
  return store;
}

}  // namespace

Service::Service(ServerConfig config)
    : config_(std::move(config)),
      store_(open_store(config_.data_dir)),
      catalogs_(config_, kListingTimeToLive),
      jobs_(config_, *store_, [this](const std::string& cluster) { catalogs_.invalidate(cluster); }),
      api_({config_, *store_, jobs_, catalogs_}),
      scheduler_(std::make_unique<Scheduler>(config_, *store_, jobs_)) {}

Service::~Service() { stop(std::chrono::hours(24)); }

void Service::run() { api_.run(); }

bool Service::stop(std::chrono::seconds grace) {
  api_.stop();
  scheduler_->stop();
  return jobs_.shutdown(grace);
}

}  // namespace shardsafe::server

#include "server/api.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "agent/http_json.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/redact.h"
#include "server/cluster_jobs.h"
#include "server/dashboard_assets.h"
#include "server/metrics.h"
#include "storage/open.h"
#include "version.h"

namespace shardsafe::server {
namespace {

using agent::http::guarded;
using agent::http::parse_body;
using agent::http::reply;
using agent::http::reply_error;
using httplib::Request;
using httplib::Response;
using nlohmann::json;

constexpr std::size_t kMaxBodyBytes = 64 << 10;
constexpr std::size_t kWorkers = 32;
constexpr const char* kName = "([A-Za-z0-9._-]+)";
constexpr const char* kNumber = "([0-9]+)";

// A query parameter as a number in [low, high], or `fallback` when absent.
std::int64_t number_param(const Request& request, const std::string& name, std::int64_t fallback, std::int64_t low, std::int64_t high) {
  if (!request.has_param(name)) return fallback;
  const std::string text = request.get_param_value(name);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    throw Error(ErrorCode::kInvalidArgument,
                "query parameter \"" + name + "\" must be a number from " + std::to_string(low) + " to " + std::to_string(high));
  }
  return value;
}

std::int64_t id_of(const Request& request) {
  std::int64_t id = 0;
  const std::string text = request.matches[1];
  std::from_chars(text.data(), text.data() + text.size(), id);
  return id;
}

json schedule_json(const ClusterConfig& cluster) {
  json out = json::object();
  const auto now = std::chrono::system_clock::now();
  for (const auto& [kind, schedule] : {std::pair{kFull, &cluster.full_schedule}, std::pair{kIncremental, &cluster.incremental_schedule}}) {
    if (*schedule) out[kind] = {{"cron", (*schedule)->expression()}, {"next", iso8601((*schedule)->next_after(now))}};
  }
  return out;
}

json retention_json(const ClusterConfig& cluster) {
  if (!cluster.retention) return nullptr;
  json out = json::object();
  if (cluster.retention->keep_last) out["keep_last"] = *cluster.retention->keep_last;
  if (cluster.retention->keep_for) out["keep_days"] = cluster.retention->keep_for->count() / 86400;
  return out;
}

json cluster_json(const ClusterConfig& cluster, JobManager& jobs) {
  json agents = json::object();
  for (const auto& [set, addresses] : cluster.agents.agents) agents[set] = addresses;
  const auto busy = jobs.busy(cluster.name);
  return {{"name", cluster.name},
          {"uri", redact_uri(cluster.uri)},
          {"storage", redact_uri(cluster.storage.url)},
          {"agents", agents},
          {"schedule", schedule_json(cluster)},
          {"retention", retention_json(cluster)},
          {"busy_job", busy ? json(*busy) : json(nullptr)}};
}

// One page of `listing`'s backups, newest first: `limit` after backup `after` (or from the
// newest), with the whole timeline. Assembled from the listing's serialized parts.
std::string backups_page(const ClusterListing& listing, const Request& request) {
  const auto limit = static_cast<std::size_t>(number_param(request, "limit", 100, 1, 1000));
  std::size_t start = 0;
  if (request.has_param("after")) {
    const std::string after = request.get_param_value("after");
    const auto it = std::find_if(listing.backups.begin(), listing.backups.end(), [&](const auto& backup) { return backup.id == after; });
    if (it == listing.backups.end()) throw Error(ErrorCode::kNotFound, "backup \"" + after + "\" (query parameter \"after\") not found");
    start = static_cast<std::size_t>(it - listing.backups.begin()) + 1;
  }
  const std::size_t end = std::min(listing.backups.size(), start + limit);
  std::string page = "{\"backups\":[";
  for (std::size_t i = start; i < end; ++i) page += (i == start ? "" : ",") + listing.backups_json[i];
  const json next = end < listing.backups.size() ? json(listing.backups[end - 1].id) : json(nullptr);
  return page + "],\"total\":" + std::to_string(listing.backups.size()) + ",\"next\":" + next.dump() +
         ",\"listed_at\":" + json(iso8601(listing.listed_at)).dump() + ",\"timeline\":" + listing.timeline_json + "}";
}

}  // namespace

ApiServer::ApiServer(ApiParts parts) : parts_(parts) {
  server_ = agent::http::make_server(parts_.config.tls_cert, parts_.config.tls_key, "the server");
  server_->set_payload_max_length(kMaxBodyBytes);
  // Answers are small and each is one write: without this, Nagle's algorithm and delayed ACKs
  // hold kept-alive answers for ~40 ms.
  server_->set_tcp_nodelay(true);
  // Each kept-alive connection holds a worker: room for the dashboard, scrapers and scripts.
  server_->new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  // httplib closes a kept-alive connection after 5 requests by default: a dashboard polling
  // every second would reconnect every 5 s, a scraper or script far more often.
  server_->set_keep_alive_max_count(1000);
  add_routes();
  port_ = agent::http::bind_server(*server_, parts_.config.host, parts_.config.port, "the server");
}

ApiServer::~ApiServer() { stop(); }

void ApiServer::run() { server_->listen_after_bind(); }

void ApiServer::stop() { server_->stop(); }

void ApiServer::add_routes() {
  server_->set_pre_routing_handler([this](const Request& request, Response& response) {
    if (request.path == "/healthz" || dashboard_asset(request.path) ||
        agent::http::bearer_token_matches(request.get_header_value("Authorization"), parts_.config.token)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    spdlog::warn("server: refused {} {} from {}: missing or wrong token", request.method, request.path, request.remote_addr);
    reply_error(response, Error(ErrorCode::kUnauthorized, "missing or wrong bearer token"));
    return httplib::Server::HandlerResponse::Handled;
  });
  // Method, path and status only: headers (the token) are never logged.
  server_->set_logger([](const Request& request, const Response& response) {
    spdlog::debug("server: {} {} from {}: {}", request.method, request.path, request.remote_addr, response.status);
  });
  server_->set_error_handler([](const Request& request, Response& response) {
    if (response.status == 404 && response.body.empty()) reply_error(response, Error(ErrorCode::kNotFound, "no route " + request.path));
    if (response.status == 413) {
      reply_error(response, Error(ErrorCode::kInvalidArgument, "the request body is larger than " + std::to_string(kMaxBodyBytes) + " bytes"));
    }
  });
  server_->Get("/healthz", [](const Request&, Response& response) { reply(response, 200, {{"ok", true}, {"version", kVersion}}); });
  server_->Get("/metrics", guarded([this](const Request&, Response& response) {
                 response.set_content(render_metrics(parts_.config, parts_.store, parts_.jobs, parts_.catalogs),
                                      "text/plain; version=0.0.4");
               }));
  add_cluster_routes();
  add_job_routes();
  add_static_routes();
}

void ApiServer::add_cluster_routes() {
  server_->Get("/api/v1/clusters", guarded([this](const Request&, Response& response) {
                 json clusters = json::array();
                 for (const auto& [name, cluster] : parts_.config.clusters) clusters.push_back(cluster_json(cluster, parts_.jobs));
                 reply(response, 200, {{"clusters", clusters}});
               }));
  server_->Get(std::string("/api/v1/clusters/") + kName + "/backups", guarded([this](const Request& request, Response& response) {
                 response.set_content(backups_page(*parts_.catalogs.get(request.matches[1]), request), "application/json");
               }));
  server_->Post(std::string("/api/v1/clusters/") + kName + "/backups", guarded([this](const Request& request, Response& response) {
                  const json params = backup_params(parse_body(request));
                  const auto record = parts_.jobs.submit(request.matches[1], params.at("kind"), params, "api");
                  reply(response, 202, {{"job", record.id}});
                }));
  server_->Post(std::string("/api/v1/clusters/") + kName + "/restores", guarded([this](const Request& request, Response& response) {
                  const auto record = parts_.jobs.submit(request.matches[1], kRestore, restore_params(parse_body(request)), "api");
                  reply(response, 202, {{"job", record.id}});
                }));
  server_->Delete(std::string("/api/v1/backups/") + kName, guarded([this](const Request& request, Response& response) {
                    const std::string id = request.matches[1];
                    for (const auto& [name, cluster] : parts_.config.clusters) {
                      const auto& backups = parts_.catalogs.get(name)->backups;
                      if (std::none_of(backups.begin(), backups.end(), [&](const auto& backup) { return backup.id == id; })) continue;
                      if (const auto busy = parts_.jobs.busy(name)) {
                        throw Error(ErrorCode::kConflict, "cluster \"" + name + "\" is busy with job " + std::to_string(*busy));
                      }
                      auto storage = storage::open_storage(cluster.storage.url, cluster.storage.settings);
                      catalog::Catalog(*storage).remove(id);
                      parts_.catalogs.invalidate(name);
                      spdlog::info("server: backup \"{}\" of cluster \"{}\" deleted", id, name);
                      return reply(response, 200, {{"deleted", id}, {"cluster", name}});
                    }
                    throw Error(ErrorCode::kNotFound, "backup \"" + id + "\" not found in any cluster");
                  }));
}

void ApiServer::add_job_routes() {
  server_->Get("/api/v1/jobs", guarded([this](const Request& request, Response& response) {
                 json jobs = json::array();
                 const auto limit = static_cast<std::size_t>(number_param(request, "limit", 100, 1, 1000));
                 for (const auto& record : parts_.jobs.list(limit, number_param(request, "before", 0, 0, INT64_MAX))) jobs.push_back(to_json(record));
                 reply(response, 200, {{"jobs", jobs}});
               }));
  server_->Get(std::string("/api/v1/jobs/") + kNumber, guarded([this](const Request& request, Response& response) {
                 reply(response, 200, to_json(parts_.jobs.get(id_of(request))));
               }));
  server_->Delete(std::string("/api/v1/jobs/") + kNumber, guarded([this](const Request& request, Response& response) {
                    reply(response, 200, to_json(parts_.jobs.cancel(id_of(request))));
                  }));
}

void ApiServer::add_static_routes() {
  for (const auto& asset : dashboard_assets()) {
    server_->Get(std::string(asset.path), [&asset](const Request&, Response& response) {
      response.set_content(asset.body.data(), asset.body.size(), std::string(asset.content_type).c_str());
    });
  }
}

}  // namespace shardsafe::server

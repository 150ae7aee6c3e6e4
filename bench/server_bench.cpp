// The control plane's read routes under load: `shardsafe server` (in this process, over real
// HTTP on loopback) with 1,000 backups in its cluster's catalog and 1,000 jobs in its history,
// 10 clients each sending requests back to back on a kept-alive connection. Reports each
// route's p50, p95 and max latency (target: p95 < 50 ms), and how long the first, uncached
// listing of the 1,000 manifests took.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <httplib.h>
#include <thread>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "coordinator/backup.h"
#include "server/job_store.h"
#include "server/service.h"
#include "storage/open.h"
#include "support/sandbox.h"

namespace {

using namespace shardsafe;
using Clock = std::chrono::steady_clock;

constexpr int kBackups = 1000;
constexpr int kClients = 10;
constexpr int kRequestsPerClient = 200;
constexpr const char* kToken = "bench-token";

// One real backup of a small set, then 999 more manifests over its objects, a minute apart.
void fill_catalog(const std::string& url) {
  testing::SandboxReplSet source({});
  mongo::Client client{mongo::Uri(source.uri())};
  std::vector<mongo::Bson> documents;
  for (int i = 0; i < 100; ++i) documents.push_back(mongo::BsonBuilder().append("_id", i).build());
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& document : documents) raw.push_back(document.bytes());
  client.insert_many("shop", "items", raw, true);
  auto storage = storage::open_storage(url, {});
  Progress progress;
  coordinator::BackupRequest request;
  request.uri = source.uri();
  catalog::Manifest manifest = coordinator::run_backup(request, *storage, progress);
  catalog::Catalog catalog(*storage);
  const auto start = std::chrono::system_clock::now() - std::chrono::hours(24 * 30);
  for (int i = 1; i < kBackups; ++i) {
    const auto time = start + std::chrono::minutes(i);
    manifest.id = catalog.new_backup_id(time);
    manifest.started_at = manifest.finished_at = iso8601(time);
    manifest.consistency_point.seconds = static_cast<std::uint32_t>(std::chrono::system_clock::to_time_t(time));
    catalog.commit(manifest);
  }
}

void fill_history(const std::string& path) {
  server::JobStore store(path);
  for (int i = 0; i < kBackups; ++i) {
    server::JobRecord record;
    record.cluster = "prod";
    record.kind = i % 4 == 0 ? "full" : "incremental";
    record.trigger = "schedule";
    record.state = server::kSucceeded;
    record.created_at = record.started_at = record.finished_at = iso8601_now();
    record.log = {"queued", "started", "succeeded"};
    store.insert(record);
    store.update(record);
  }
}

struct Bench {
  testing::TempDir dir;
  std::unique_ptr<server::Service> service;
  std::thread serving;
  double cold_listing_ms = 0;

  Bench() {
    const std::string url = "file://" + (dir.path() / "storage").string();
    fill_catalog(url + "/prod");
    std::filesystem::create_directories(dir.path() / "data");
    fill_history((dir.path() / "data" / "jobs.db").string());
    server::ServerConfig config;
    config.port = 0;
    config.token = kToken;
    config.data_dir = (dir.path() / "data").string();
    server::ClusterConfig cluster;
    cluster.name = "prod";
    cluster.uri = "mongodb://127.0.0.1:1";
    cluster.storage = {url + "/prod", {}};
    config.clusters["prod"] = cluster;
    service = std::make_unique<server::Service>(std::move(config));
    serving = std::thread([this] { service->run(); });
    const auto start = Clock::now();
    client().Get("/api/v1/clusters/prod/backups");
    cold_listing_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  }
  ~Bench() {
    service->stop(std::chrono::seconds(5));
    serving.join();
  }
  httplib::Client client() const {
    httplib::Client client("127.0.0.1", service->port());
    client.set_bearer_token_auth(kToken);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    return client;
  }
};

Bench& bench() {
  static Bench instance;
  return instance;
}

const char* const kRoutes[] = {"/api/v1/clusters/prod/backups", "/api/v1/clusters/prod/backups?limit=1000",
                               "/api/v1/jobs", "/api/v1/jobs/500", "/api/v1/clusters"};

void BM_Route(benchmark::State& state) {
  const std::string route = kRoutes[state.range(0)];
  state.SetLabel(route);
  std::vector<double> latencies;
  for (auto _ : state) {
    std::vector<std::vector<double>> per_client(kClients);
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        auto client = bench().client();
        for (int i = 0; i < kRequestsPerClient; ++i) {
          const auto start = Clock::now();
          const auto answer = client.Get(route);
          if (!answer || answer->status != 200) std::abort();
          per_client[static_cast<std::size_t>(c)].push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        }
      });
    }
    for (auto& client : clients) client.join();
    for (const auto& some : per_client) latencies.insert(latencies.end(), some.begin(), some.end());
  }
  std::sort(latencies.begin(), latencies.end());
  const auto at = [&](double q) { return latencies[static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1))]; };
  state.counters["p50_ms"] = at(0.50);
  state.counters["p95_ms"] = at(0.95);
  state.counters["max_ms"] = latencies.back();
  state.counters["requests"] = static_cast<double>(latencies.size());
  state.counters["cold_listing_ms"] = bench().cold_listing_ms;
}
BENCHMARK(BM_Route)->DenseRange(0, 4)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

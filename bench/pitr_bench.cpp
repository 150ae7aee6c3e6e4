// Point-in-time recovery speed against the sandbox:
//   Replay        replay_oplog of a slice's entries (inserts, $set updates, deletes) into an
//                 empty set, against bare applyOps batches of 1000 of the same entries,
//                 re-encoded as replay sends them, on the same server (target ratio >= 0.8).
//                 `per_entry_ops_s` is one applyOps per entry (replay before batching), timed
//                 on the first 2000 entries.
//   Lag           `pitr` slicing a set every SHARDSAFE_BENCH_SPAN seconds (default 1) for
//                 SHARDSAFE_BENCH_SECONDS (default 30) under SHARDSAFE_BENCH_WRITES writes/s
//                 (default 5000, inserts of 50 documents every 10 ms): the lag (now minus the
//                 newest slice's end) sampled every 200 ms, its median and maximum.
// Data: SHARDSAFE_BENCH_OPS entries (default 50000).
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "bench_support.h"
#include "common/clock.h"
#include "coordinator/pitr.h"
#include "mongo/topology.h"
#include "oplog/entry.h"
#include "oplog/memory_streams.h"
#include "oplog/replay.h"
#include "storage/open.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using namespace bench;
using testing::SandboxReplSet;
using testing::TempDir;

std::int64_t env_or(const char* name, std::int64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::atoll(value) : fallback;
}

mongo::Bson small_document(std::int64_t id) {
  return mongo::BsonBuilder().append("_id", id).append("name", "order " + std::to_string(id)).append("total", id * 1.5).build();
}

void insert_small(mongo::Client& client, const std::string& collection, std::int64_t first, std::int64_t last) {
  std::vector<mongo::Bson> batch;
  for (std::int64_t id = first; id < last; ++id) batch.push_back(small_document(id));
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& document : batch) raw.push_back(document.bytes());
  client.insert_many("pitrbench", collection, raw, false);
}

// A slice's worth of entries on the source, and a set to replay them into.
struct ReplayWorld {
  SandboxReplSet source{{.name = "pitrsrc", .members = 1, .oplog_size_mb = 512}};
  SandboxReplSet target{{.name = "pitrdst", .members = 1, .oplog_size_mb = 512}};
  std::vector<std::uint8_t> raw;          // the entries, concatenated as in a slice
  std::vector<mongo::Bson> encoded;       // each as replay sends it
  std::int64_t entries = 0;

  ReplayWorld() {
    mongo::Client client{mongo::Uri(source.uri())};
    const std::int64_t ops = env_or("SHARDSAFE_BENCH_OPS", 50000);
    const mongo::Timestamp start = mongo::newest_oplog_ts(client);
    const std::int64_t inserts = ops * 6 / 10;
    for (std::int64_t id = 0; id < inserts; id += 1000) insert_small(client, "orders", id, std::min(inserts, id + 1000));
    client.command("pitrbench", mongo::Bson::from_json(R"({"update": "orders", "updates": [{"q": {"_id": {"$lt": )" +
                                                        std::to_string(ops * 3 / 10) + R"(}}, "u": {"$set": {"paid": true}}, "multi": true}]})"));
    client.command("pitrbench", mongo::Bson::from_json(R"({"delete": "orders", "deletes": [{"q": {"_id": {"$gte": )" +
                                                        std::to_string(inserts - ops / 10) + R"(}}, "limit": 0}]})"));
    const mongo::Bson filter = mongo::BsonBuilder()
                                   .append("ts", mongo::BsonBuilder().append("$gt", start).build())
                                   .append("ns", mongo::BsonBuilder().append("$regex", "^pitrbench\\.").build())
                                   .build();
    mongo::Cursor cursor = client.find("local", "oplog.rs", filter);
    while (const bson_t* entry = cursor.next()) {
      const auto bytes = std::span<const std::uint8_t>(bson_get_data(entry), entry->len);
      raw.insert(raw.end(), bytes.begin(), bytes.end());
      encoded.push_back(oplog::encode_for_apply_ops(oplog::parse_entry(bytes), false));
      ++entries;
    }
  }

  void empty_target() {
    mongo::Client client{mongo::Uri(target.uri())};
    client.command("pitrbench", mongo::Bson::from_json(R"({"dropDatabase": 1})"));
  }
};

ReplayWorld& replay_world() {
  static ReplayWorld instance;
  return instance;
}

double bare_apply_ops(std::size_t batch, std::size_t limit) {
  ReplayWorld& world = replay_world();
  world.empty_target();
  mongo::Client client{mongo::Uri(world.target.uri())};
  const std::size_t count = std::min(limit, world.encoded.size());
  const auto start = Clock::now();
  for (std::size_t at = 0; at < count; at += batch) {
    const std::vector<mongo::Bson> ops(world.encoded.begin() + static_cast<std::ptrdiff_t>(at),
                                       world.encoded.begin() + static_cast<std::ptrdiff_t>(std::min(count, at + batch)));
    client.command("admin", mongo::BsonBuilder().append_array("applyOps", ops).build());
  }
  return milliseconds_since(start);
}

double shardsafe_replay() {
  ReplayWorld& world = replay_world();
  world.empty_target();
  mongo::Client client{mongo::Uri(world.target.uri())};
  oplog::testing::ChunkedSource source(world.raw);
  const auto start = Clock::now();
  const auto result = oplog::replay_oplog(source, client, {});
  const double ms = milliseconds_since(start);
  benchmark::DoNotOptimize(result.applied);
  return ms;
}

void Replay(benchmark::State& state) {
  ReplayWorld& world = replay_world();
  const auto times = time_side_by_side(state, [] { return bare_apply_ops(oplog::kMaxBatchOps, SIZE_MAX); }, shardsafe_replay);
  const std::size_t per_entry = std::min<std::size_t>(2000, world.encoded.size());
  const double per_entry_ms = bare_apply_ops(1, per_entry);
  const double entries = static_cast<double>(world.entries);
  state.counters["entries"] = entries;
  state.counters["baseline_ops_s"] = entries / median(times.baseline_ms) * 1000;
  state.counters["shardsafe_ops_s"] = entries / median(times.subject_ms) * 1000;
  state.counters["per_entry_ops_s"] = static_cast<double>(per_entry) / per_entry_ms * 1000;
  state.counters["ratio"] = median_ratio(times.baseline_ms, times.subject_ms);
}

// Inserts 50 documents every 10 ms (scaled to `writes_per_s`) until `stop`; returns the count.
std::int64_t write_load(const std::string& uri, std::int64_t writes_per_s, const std::atomic<bool>& stop) {
  mongo::Client client{mongo::Uri(uri)};
  const std::int64_t per_batch = std::max<std::int64_t>(1, writes_per_s / 100);
  std::int64_t written = 0;
  auto next = Clock::now();
  while (!stop) {
    insert_small(client, "load", written, written + per_batch);
    written += per_batch;
    next += std::chrono::milliseconds(10);
    std::this_thread::sleep_until(next);
  }
  return written;
}

void Lag(benchmark::State& state) {
  spdlog::set_level(spdlog::level::warn);  // a line per slice would bury the results
  const std::int64_t seconds = env_or("SHARDSAFE_BENCH_SECONDS", 30);
  const std::int64_t writes_per_s = env_or("SHARDSAFE_BENCH_WRITES", 5000);
  for (auto _ : state) {
    TempDir dir;
    SandboxReplSet source{{.name = "pitrlag", .members = 1, .oplog_size_mb = 1024}};
    auto storage = storage::open_storage("file://" + (dir.path() / "backups").string());
    coordinator::PitrRequest request;
    request.backup.uri = source.uri();
    request.span = std::chrono::seconds(env_or("SHARDSAFE_BENCH_SPAN", 1));
    Progress progress;
    coordinator::run_backup(request.backup, *storage, progress);  // the full backup slices continue

    std::atomic<bool> stop{false};
    std::int64_t written = 0;
    const auto start = Clock::now();
    std::thread writer([&] { written = write_load(source.uri(), writes_per_s, stop); });
    std::thread pitr([&] { coordinator::run_pitr(request, *storage, stop); });
    std::vector<double> lag_s;
    while (Clock::now() - start < std::chrono::seconds(seconds)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      const auto status = coordinator::pitr_status(*storage);
      if (!status.state || status.state->last_slice_end.is_null()) continue;
      lag_s.push_back(static_cast<double>(unix_ms() - std::int64_t{status.state->last_slice_end.seconds} * 1000) / 1000);
    }
    stop = true;
    writer.join();
    pitr.join();
    const double elapsed_ms = milliseconds_since(start);
    state.SetIterationTime(elapsed_ms / 1000);
    const auto final_state = coordinator::pitr_status(*storage).state;
    state.counters["writes_s"] = static_cast<double>(written) / elapsed_ms * 1000;
    state.counters["slices"] = final_state ? static_cast<double>(final_state->slices) : 0;
    state.counters["lag_p50_s"] = lag_s.empty() ? -1 : median(lag_s);
    state.counters["lag_max_s"] = lag_s.empty() ? -1 : *std::max_element(lag_s.begin(), lag_s.end());
  }
}

BENCHMARK(Replay)->Unit(benchmark::kMillisecond)->Iterations(5)->UseManualTime();
BENCHMARK(Lag)->Unit(benchmark::kMillisecond)->Iterations(1)->UseManualTime();

}  // namespace
}  // namespace shardsafe

BENCHMARK_MAIN();

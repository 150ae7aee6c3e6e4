// Dump and restore throughput against the sandbox, each run alternately with libmongoc doing
// the bare minimum on the same data (issue 4's targets are ratios of these):
//   Dump/<codec>     ReplicaSetDumper of the collection to file:// storage, against a bare
//                    find reading every document                                (target >= 0.85)
//   Restore/<codec>  ReplicaSetRestorer of that dump into an empty set, against an unordered
//                    insert_many of the same documents in 4 MiB batches, w:majority (>= 0.65)
// Each iteration times the baseline and then shardsafe, so drift on a shared machine hits both;
// the counters are the medians and `ratio`, the median of baseline / shardsafe per iteration
// (1.0: as fast as the baseline). Data: SHARDSAFE_BENCH_MIB (default 256) of ~1 KiB documents.
// Peak RSS of the CLI is measured by bench/rss.sh.
#include <benchmark/benchmark.h>

#include <memory>

#include "bench_support.h"
#include "coordinator/backup.h"
#include "coordinator/restore.h"
#include "dump/dumper.h"
#include "dump/restorer.h"
#include "storage/open.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using namespace bench;
using testing::SandboxReplSet;
using testing::TempDir;

// The source set with its data, and a second set to restore into; built once for all benchmarks.
struct World {
  TempDir dir;
  SandboxReplSet source{{.name = "bench", .members = 1, .oplog_size_mb = 64}};
  std::uint64_t documents = static_cast<std::uint64_t>(documents_for(bench_bytes()));
  std::uint64_t bytes = 0;

  World() {
    mongo::Client client{mongo::Uri(source.uri())};
    bytes = insert_kilobyte_documents(client, "bench", "data", 0, static_cast<std::int64_t>(documents));
  }
};

World& world() {
  static World instance;
  return instance;
}

// Reports the medians of both sides and `ratio`, the median of baseline / shardsafe per
// iteration (1.0: as fast as the baseline).
template <typename Baseline, typename Subject>
void run_side_by_side(benchmark::State& state, Baseline baseline, Subject subject) {
  const auto times = time_side_by_side(state, baseline, subject);
  state.counters["baseline_ms"] = median(times.baseline_ms);
  state.counters["shardsafe_ms"] = median(times.subject_ms);
  state.counters["ratio"] = median_ratio(times.baseline_ms, times.subject_ms);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * world().bytes));
}

// `batch_documents` 0: the server's default batches (up to 16 MiB).
double bare_scan(std::int64_t batch_documents) {
  const auto start = Clock::now();
  mongo::Client client{mongo::Uri(world().source.uri())};
  const mongo::Bson options =
      batch_documents ? mongo::BsonBuilder().append("batchSize", batch_documents).build() : mongo::Bson();
  mongo::Cursor cursor = client.find("bench", "data", mongo::Bson(), options);
  std::uint64_t seen = 0;
  while (const bson_t* doc = cursor.next()) seen += doc->len;
  benchmark::DoNotOptimize(seen);
  return milliseconds_since(start);
}

catalog::Manifest dump_once(storage::Storage& storage, storage::Compression compression) {
  coordinator::BackupRequest request;
  request.uri = world().source.uri();
  request.dump.stream.compression = compression;
  Progress progress;
  return coordinator::run_backup(request, storage, progress);
}

// Args: compression, and whether the bare scan asks for the ~4 MiB batches the dumper asks
// for (1) or takes the server's default (0), to show how much of the result is batch size.
void Dump(benchmark::State& state) {
  const auto compression = static_cast<storage::Compression>(state.range(0));
  const std::int64_t batch_documents = state.range(1) ? (4 << 20) / (world().bytes / world().documents) : 0;
  run_side_by_side(state, [&] { return bare_scan(batch_documents); }, [&] {
    TempDir out;  // making and removing the output folder is not the dump's cost
    auto storage = storage::open_storage("file://" + out.path().string(), {});
    const auto start = Clock::now();
    const auto manifest = dump_once(*storage, compression);
    const double elapsed = milliseconds_since(start);
    // A dump that is fast because it missed documents must not look good.
    if (manifest.total_documents() != world().documents) state.SkipWithError("the dump missed documents");
    return elapsed;
  });
  state.SetLabel(storage::compression_name(compression) + (state.range(1) ? ", scan in 4 MiB batches" : ""));
}

// The source's documents, re-read once, in the 4 MiB batches the restorer sends.
std::vector<std::vector<mongo::Bson>> insert_batches() {
  std::vector<std::vector<mongo::Bson>> batches(1);
  std::size_t batch_bytes = 0;
  mongo::Client client{mongo::Uri(world().source.uri())};
  mongo::Cursor cursor = client.find("bench", "data", mongo::Bson());
  while (const bson_t* doc = cursor.next()) {
    if (batch_bytes + doc->len > (4u << 20)) {
      batches.emplace_back();
      batch_bytes = 0;
    }
    batches.back().push_back(mongo::Bson::copy_of(doc));
    batch_bytes += doc->len;
  }
  return batches;
}

double bare_insert(const std::vector<std::vector<mongo::Bson>>& batches) {
  SandboxReplSet target({.name = "bare", .members = 1});
  mongo::Client client{mongo::Uri(target.uri())};
  const auto start = Clock::now();
  for (const auto& batch : batches) {
    std::vector<std::span<const std::uint8_t>> raw;
    for (const auto& doc : batch) raw.push_back(doc.bytes());
    client.insert_many("bench", "data", raw, false, mongo::BsonBuilder().append("w", "majority").build());
  }
  return milliseconds_since(start);
}

void Restore(benchmark::State& state) {
  const auto compression = static_cast<storage::Compression>(state.range(0));
  const auto batches = insert_batches();
  TempDir out;
  auto storage = storage::open_storage("file://" + out.path().string(), {});
  const auto manifest = dump_once(*storage, compression);
  run_side_by_side(state, [&] { return bare_insert(batches); }, [&] {
    SandboxReplSet target({.name = "restored", .members = 1});
    coordinator::RestoreRequest request;
    request.backup_id = manifest.id;
    request.target_uri = target.uri();
    Progress progress;
    const auto start = Clock::now();
    benchmark::DoNotOptimize(coordinator::run_restore(request, *storage, progress));
    return milliseconds_since(start);
  });
  state.SetLabel(storage::compression_name(compression));
}

constexpr auto kNone = static_cast<std::int64_t>(storage::Compression::kNone);
constexpr auto kZstd = static_cast<std::int64_t>(storage::Compression::kZstd);

BENCHMARK(Dump)->Args({kNone, 0})->Args({kZstd, 0})->Args({kZstd, 1})->Unit(benchmark::kMillisecond)->Iterations(7)->UseManualTime();
BENCHMARK(Restore)->Arg(kNone)->Arg(kZstd)->Unit(benchmark::kMillisecond)->Iterations(3)->UseManualTime();

}  // namespace
}  // namespace shardsafe

BENCHMARK_MAIN();

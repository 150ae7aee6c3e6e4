// Dump and restore throughput against the sandbox, side by side with libmongoc doing the bare
// minimum on the same data in the same run (issue 4's targets are ratios of these):
//   BareScan        a find over the collection, reading every document        (dump baseline)
//   Dump/<codec>    ReplicaSetDumper of the same collection to file:// storage
//   BareInsert      unordered insert_many of the same documents in 4 MiB batches (restore baseline)
//   Restore/<codec> ReplicaSetRestorer of that dump into an empty set
// Data size: SHARDSAFE_BENCH_MIB (default 256) of ~1 KiB documents. Peak RSS of the CLI is
// measured separately by bench/rss.sh.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>

#include "coordinator/backup.h"
#include "coordinator/restore.h"
#include "dump/dumper.h"
#include "dump/restorer.h"
#include "storage/open.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using testing::SandboxReplSet;
using testing::TempDir;

std::uint64_t bench_bytes() {
  const char* mib = std::getenv("SHARDSAFE_BENCH_MIB");
  return static_cast<std::uint64_t>(mib ? std::atoll(mib) : 256) * 1024 * 1024;
}

mongo::Bson kilobyte_document(std::int64_t id) {
  return mongo::BsonBuilder()
      .append("_id", id)
      .append("name", "document number " + std::to_string(id))
      .append("value", static_cast<double>(id) * 1.5)
      .append("payload", std::string(920, static_cast<char>('a' + id % 26)))
      .build();
}

// The source set with its data, and a second set to restore into; built once for all benchmarks.
struct World {
  TempDir dir;
  SandboxReplSet source{{.name = "bench", .members = 1, .oplog_size_mb = 64}};
  std::uint64_t documents = 0;
  std::uint64_t bytes = 0;

  World() {
    mongo::Client client{mongo::Uri(source.uri())};
    std::vector<mongo::Bson> batch;
    while (bytes < bench_bytes()) {
      batch.push_back(kilobyte_document(static_cast<std::int64_t>(documents++)));
      bytes += batch.back().bytes().size();
      if (batch.size() == 4000) flush(client, batch);
    }
    flush(client, batch);
  }
  void flush(mongo::Client& client, std::vector<mongo::Bson>& batch) {
    std::vector<std::span<const std::uint8_t>> raw;
    for (const auto& doc : batch) raw.push_back(doc.bytes());
    client.insert_many("bench", "data", raw, false);
    batch.clear();
  }
};

World& world() {
  static World instance;
  return instance;
}

void BareScan(benchmark::State& state) {
  auto& w = world();
  for (auto _ : state) {
    mongo::Client client{mongo::Uri(w.source.uri())};
    mongo::Cursor cursor = client.find("bench", "data", mongo::Bson());
    std::uint64_t seen = 0;
    while (const bson_t* doc = cursor.next()) seen += doc->len;
    benchmark::DoNotOptimize(seen);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * w.bytes));
}

catalog::Manifest dump_once(storage::Storage& storage, storage::Compression compression) {
  coordinator::BackupRequest request;
  request.uri = world().source.uri();
  request.dump.stream.compression = compression;
  Progress progress;
  return coordinator::run_backup(request, storage, progress);
}

void Dump(benchmark::State& state) {
  auto& w = world();
  const auto compression = static_cast<storage::Compression>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();  // making and removing the output folder is not the dump's cost
    auto out = std::make_unique<TempDir>();
    auto storage = storage::open_storage("file://" + out->path().string(), {});
    state.ResumeTiming();
    benchmark::DoNotOptimize(dump_once(*storage, compression));
    state.PauseTiming();
    storage.reset();
    out.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * w.bytes));
  state.SetLabel(storage::compression_name(compression));
}

void BareInsert(benchmark::State& state) {
  auto& w = world();
  // The same documents, re-read once, inserted in the batches the restorer uses.
  std::vector<std::vector<mongo::Bson>> batches(1);
  std::size_t batch_bytes = 0;
  {
    mongo::Client client{mongo::Uri(w.source.uri())};
    mongo::Cursor cursor = client.find("bench", "data", mongo::Bson());
    while (const bson_t* doc = cursor.next()) {
      if (batch_bytes + doc->len > (4u << 20)) {
        batches.emplace_back();
        batch_bytes = 0;
      }
      batches.back().push_back(mongo::Bson::copy_of(doc));
      batch_bytes += doc->len;
    }
  }
  for (auto _ : state) {
    state.PauseTiming();
    SandboxReplSet target({.name = "bare", .members = 1});
    mongo::Client client{mongo::Uri(target.uri())};
    state.ResumeTiming();
    for (const auto& batch : batches) {
      std::vector<std::span<const std::uint8_t>> raw;
      for (const auto& doc : batch) raw.push_back(doc.bytes());
      client.insert_many("bench", "data", raw, false, mongo::BsonBuilder().append("w", "majority").build());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * w.bytes));
}

void Restore(benchmark::State& state) {
  auto& w = world();
  const auto compression = static_cast<storage::Compression>(state.range(0));
  TempDir out;
  auto storage = storage::open_storage("file://" + out.path().string(), {});
  const auto manifest = dump_once(*storage, compression);
  for (auto _ : state) {
    state.PauseTiming();
    SandboxReplSet target({.name = "restored", .members = 1});
    state.ResumeTiming();
    coordinator::RestoreRequest request;
    request.backup_id = manifest.id;
    request.target_uri = target.uri();
    Progress progress;
    benchmark::DoNotOptimize(coordinator::run_restore(request, *storage, progress));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * w.bytes));
  state.SetLabel(storage::compression_name(compression));
}

constexpr auto kNone = static_cast<std::int64_t>(storage::Compression::kNone);
constexpr auto kZstd = static_cast<std::int64_t>(storage::Compression::kZstd);

BENCHMARK(BareScan)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(Dump)->Arg(kNone)->Arg(kZstd)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BareInsert)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(Restore)->Arg(kNone)->Arg(kZstd)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

}  // namespace
}  // namespace shardsafe

BENCHMARK_MAIN();

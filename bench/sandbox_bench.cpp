// Throughput of shardsafe-sandbox over loopback with libmongoc, so the sandbox does not hide
// shardsafe's own costs: a full `find` scan and bulk inserts of 1 KiB documents, in MB/s.
//   build/bench/sandbox_bench     (SHARDSAFE_BUILD_DIR defaults to the build directory)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "mongo/client.h"
#include "support/sandbox.h"

namespace {

using shardsafe::mongo::Bson;
using shardsafe::mongo::BsonBuilder;
using shardsafe::testing::SandboxReplSet;

constexpr int kDocumentBytes = 1024;
constexpr int kBatch = 1000;

SandboxReplSet& sandbox() {
  static SandboxReplSet set(SandboxReplSet::Options{.name = "rs0", .members = 1, .oplog_size_mb = 256});
  return set;
}

// A 1 KiB document: _id plus padding.
Bson document(std::int64_t id) {
  static const std::string padding(kDocumentBytes - 30, 'p');
  return BsonBuilder().append("_id", id).append("pad", padding).build();
}

std::int64_t insert_documents(shardsafe::mongo::Client& client, const std::string& coll, std::int64_t first, int count) {
  std::int64_t bytes = 0;
  for (int done = 0; done < count; done += kBatch) {
    std::vector<Bson> docs;
    std::vector<std::span<const std::uint8_t>> raw;
    for (int i = 0; i < kBatch && done + i < count; ++i) docs.push_back(document(first + done + i));
    for (const Bson& doc : docs) {
      raw.push_back(doc.bytes());
      bytes += static_cast<std::int64_t>(doc.bytes().size());
    }
    client.insert_many("bench", coll, raw, false);
  }
  return bytes;
}

void BM_BulkInsert1KiB(benchmark::State& state) {
  shardsafe::mongo::Client client{shardsafe::mongo::Uri(sandbox().uri())};
  std::int64_t next_id = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    bytes += insert_documents(client, "insert", next_id, 20000);
    next_id += 20000;
  }
  state.SetBytesProcessed(bytes);
  client.command("bench", BsonBuilder().append("drop", "insert").build());
}
BENCHMARK(BM_BulkInsert1KiB)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

void BM_FullScan1KiB(benchmark::State& state) {
  shardsafe::mongo::Client client{shardsafe::mongo::Uri(sandbox().uri())};
  const int documents = static_cast<int>(state.range(0));
  client.command("bench", BsonBuilder().append("drop", "scan").build());
  insert_documents(client, "scan", 0, documents);
  std::int64_t bytes = 0;
  for (auto _ : state) {
    auto cursor = client.find("bench", "scan", Bson());
    while (const bson_t* doc = cursor.next()) bytes += doc->len;
  }
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_FullScan1KiB)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("SHARDSAFE_BUILD_DIR") == nullptr) {
    // The benchmark lives in <build>/bench/; the sandbox binary in <build>/.
    auto build = std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path();
    setenv("SHARDSAFE_BUILD_DIR", build.c_str(), 0);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

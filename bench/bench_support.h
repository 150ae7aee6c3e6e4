// What the sandbox benchmarks share: the data size, the ~1 KiB documents they load, and the
// side-by-side loop that times a baseline and a subject in every iteration, so that drift on a
// shared machine hits both sides of a ratio alike.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "mongo/client.h"

namespace shardsafe::bench {

// SHARDSAFE_BENCH_MIB (default 256), in bytes.
inline std::uint64_t bench_bytes() {
  const char* mib = std::getenv("SHARDSAFE_BENCH_MIB");
  return static_cast<std::uint64_t>(mib ? std::atoll(mib) : 256) * 1024 * 1024;
}

inline mongo::Bson kilobyte_document(std::int64_t id) {
  return mongo::BsonBuilder()
      .append("_id", id)
      .append("name", "document number " + std::to_string(id))
      .append("value", static_cast<double>(id) * 1.5)
      .append("payload", std::string(920, static_cast<char>('a' + id % 26)))
      .build();
}

// How many kilobyte_documents make about `bytes`: callers that split data by _id need the
// count before loading.
inline std::int64_t documents_for(std::uint64_t bytes) {
  return static_cast<std::int64_t>(bytes / kilobyte_document(0).bytes().size());
}

// Inserts kilobyte_documents with ids [first, last) into db.collection, unordered, in batches
// of 4000 (under the 48 MB message limit); returns their BSON bytes.
inline std::uint64_t insert_kilobyte_documents(mongo::Client& client, const std::string& db, const std::string& collection,
                                               std::int64_t first, std::int64_t last) {
  std::uint64_t bytes = 0;
  for (std::int64_t start = first; start < last; start += 4000) {
    std::vector<mongo::Bson> batch;
    for (std::int64_t id = start; id < std::min(last, start + 4000); ++id) batch.push_back(kilobyte_document(id));
    std::vector<std::span<const std::uint8_t>> raw;
    for (const auto& document : batch) {
      raw.push_back(document.bytes());
      bytes += document.bytes().size();
    }
    client.insert_many(db, collection, raw, false);
  }
  return bytes;
}

using Clock = std::chrono::steady_clock;

inline double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// The median of numerators[i] / denominators[i]: one ratio per iteration, then the median.
inline double median_ratio(const std::vector<double>& numerators, const std::vector<double>& denominators) {
  std::vector<double> ratios;
  for (std::size_t i = 0; i < numerators.size(); ++i) ratios.push_back(numerators[i] / denominators[i]);
  return median(ratios);
}

struct SideBySide {
  std::vector<double> baseline_ms, subject_ms;
};

// Runs `baseline` then `subject` once per iteration (each returns the milliseconds of its timed
// part); the iteration time is the subject's.
template <typename Baseline, typename Subject>
SideBySide time_side_by_side(benchmark::State& state, Baseline baseline, Subject subject) {
  SideBySide times;
  for (auto _ : state) {
    times.baseline_ms.push_back(baseline());
    times.subject_ms.push_back(subject());
    state.SetIterationTime(times.subject_ms.back() / 1000);
  }
  return times;
}

}  // namespace shardsafe::bench

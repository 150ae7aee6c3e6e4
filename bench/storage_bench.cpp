// Storage throughput against s3rver on loopback: the S3 driver versus the `curl` command
// moving the same bytes (curl signs with --aws-sigv4) in the same run, plus the driver's
// peak memory and the bytes a download writes to local disk (restore must write none).
//
//   build/bench/storage_bench [--benchmark_...]     SHARDSAFE_BENCH_MIB=256 to change the size
//
// Uploads generate their bytes on the fly and downloads discard them, so the process's peak
// RSS (VmHWM, reset between phases) is the driver's buffers: about upload_part_size x
// (upload_concurrency + 1) when writing, two download chunks when reading.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "storage/open.h"

namespace {

using namespace shardsafe::storage;
namespace fs = std::filesystem;

const std::uint64_t kBytes = (std::getenv("SHARDSAFE_BENCH_MIB") ? std::stoull(std::getenv("SHARDSAFE_BENCH_MIB")) : 128)
                             << 20;
constexpr const char* kBucket = "bench";

// s3rver through tests/node/s3rver_launcher.mjs, for the whole run.
class S3rverProcess {
 public:
  S3rverProcess() {
    char dir[] = "/tmp/shardsafe-bench-XXXXXX";
    data_ = ::mkdtemp(dir);
    int to_child[2];
    int from_child[2];
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) std::abort();
    const auto launcher = (fs::path(__FILE__).parent_path().parent_path() / "tests/node/s3rver_launcher.mjs").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to_child[0], STDIN_FILENO);
      ::dup2(from_child[1], STDOUT_FILENO);
      ::close(to_child[1]);
      ::close(from_child[0]);
      ::execlp("node", "node", "--openssl-legacy-provider", launcher.c_str(), data_.c_str(), kBucket,
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    stdin_ = to_child[1];
    std::string line;
    char c;
    while (::read(from_child[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(from_child[0]);
    port_ = std::stoi(line.substr(line.find(':') + 1));
  }
  ~S3rverProcess() {
    ::close(stdin_);
    ::waitpid(pid_, nullptr, 0);
    fs::remove_all(data_);
  }
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string data_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
};

S3rverProcess& server() {
  static S3rverProcess instance;
  return instance;
}

std::unique_ptr<Storage> storage() {
  return open_storage("s3://" + std::string(kBucket) + "/bench?endpoint=" + server().endpoint() +
                      "&path_style=true&access_key=S3RVER&secret_key=S3RVER" +
                      std::string(std::getenv("SHARDSAFE_BENCH_PARAMS") ? std::getenv("SHARDSAFE_BENCH_PARAMS") : ""));
}

// Incompressible bytes from a fast generator, one buffer reused.
class GeneratedSource : public Source {
 public:
  explicit GeneratedSource(std::uint64_t size) : left_(size) {}
  std::size_t read(std::span<std::uint8_t> buffer) override {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), left_));
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
      const auto value = generator_();
      std::memcpy(buffer.data() + i, &value, 8);
    }
    left_ -= n;
    return n;
  }

 private:
  std::uint64_t left_;
  std::mt19937_64 generator_{42};
};

class NullSink : public Sink {
 public:
  void write(std::span<const std::uint8_t> bytes) override { received += bytes.size(); }
  void finish() override {}
  std::uint64_t received = 0;
};

std::string curl_base() {
  return "curl -sS --fail --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER "
         "-H \"x-amz-content-sha256: UNSIGNED-PAYLOAD\" ";
}

std::string object_url(const std::string& key) { return server().endpoint() + "/" + kBucket + "/bench/" + key; }

// The same bytes as GeneratedSource, in a file for curl to upload (read from the page cache).
const std::string& upload_file() {
  static const std::string path = [] {
    const std::string file = "/tmp/shardsafe-bench-upload-" + std::to_string(::getpid());
    GeneratedSource source(kBytes);
    std::ofstream out(file, std::ios::binary);
    std::vector<std::uint8_t> buffer(1 << 20);
    for (std::size_t got; (got = source.read(buffer)) > 0;) out.write(reinterpret_cast<char*>(buffer.data()), got);
    return file;
  }();
  return path;
}

void run_or_die(const std::string& command) {
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "failed: %s\n", command.c_str());
    std::exit(1);
  }
}

// Peak resident memory of this process since the last reset, in MiB.
void reset_peak_memory() { std::ofstream("/proc/self/clear_refs") << "5"; }
double peak_memory_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmHWM:")) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}
std::uint64_t bytes_written_to_disk() {
  std::ifstream io("/proc/self/io");
  for (std::string line; std::getline(io, line);) {
    if (line.starts_with("write_bytes:")) return std::stoull(line.substr(12));
  }
  return 0;
}

std::map<std::string, double> throughput;  // MiB/s per benchmark, for the ratios
std::map<std::string, double> peak_mib;

template <typename Transfer>
void measure(benchmark::State& state, const std::string& name, Transfer transfer) {
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    transfer();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBytes));
  throughput[name] = static_cast<double>(state.iterations() * kBytes) / (1 << 20) / seconds;
  state.counters["MiB/s"] = throughput[name];
}

void UploadCurl(benchmark::State& state) {
  const auto& file = upload_file();
  measure(state, "upload curl", [&] { run_or_die(curl_base() + "-T " + file + " " + object_url("curl-object")); });
}

void UploadShardsafe(benchmark::State& state) {
  auto s3 = storage();
  reset_peak_memory();
  measure(state, "upload shardsafe", [&] {
    GeneratedSource source(kBytes);
    auto writer = s3->create("shardsafe-object");
    pump(source, *writer);
    writer->commit();
  });
  peak_mib["upload shardsafe"] = peak_memory_mib();
  state.counters["peak_MiB"] = peak_mib["upload shardsafe"];
}

void DownloadCurl(benchmark::State& state) {
  measure(state, "download curl", [&] { run_or_die(curl_base() + "-o /dev/null " + object_url("curl-object")); });
}

void DownloadShardsafe(benchmark::State& state) {
  auto s3 = storage();
  reset_peak_memory();
  const auto written_before = bytes_written_to_disk();
  measure(state, "download shardsafe", [&] {
    NullSink sink;
    pump(*s3->open("shardsafe-object"), sink);
    if (sink.received != kBytes) std::abort();
  });
  peak_mib["download shardsafe"] = peak_memory_mib();
  state.counters["peak_MiB"] = peak_mib["download shardsafe"];
  state.counters["disk_bytes_written"] = static_cast<double>(bytes_written_to_disk() - written_before);
}

// Each transfer is seconds long: a few iterations are plenty.
BENCHMARK(UploadCurl)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(UploadShardsafe)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(DownloadCurl)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(DownloadShardsafe)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  server();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::printf("\n%llu MiB per transfer to s3rver on loopback\n", static_cast<unsigned long long>(kBytes >> 20));
  for (const auto* direction : {"upload", "download"}) {
    const auto ours = throughput[std::string(direction) + " shardsafe"];
    const auto curl = throughput[std::string(direction) + " curl"];
    if (ours > 0 && curl > 0) {
      std::printf("%-8s shardsafe %7.1f MiB/s  curl %7.1f MiB/s  ratio %.2f  peak RSS %.0f MiB\n", direction, ours,
                  curl, ours / curl, peak_mib[std::string(direction) + " shardsafe"]);
    }
  }
  std::remove(upload_file().c_str());
  return 0;
}

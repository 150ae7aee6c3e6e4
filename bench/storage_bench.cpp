// Storage throughput against s3rver on loopback: shardsafe's S3 driver versus the `curl`
// command sending the same requests with the same bytes, side by side in one run, plus the
// driver's peak memory and the bytes a download writes to local disk (restore must write none).
//
//   build/bench/storage_bench [--benchmark_...]     SHARDSAFE_BENCH_MIB=256 to change the size,
//                                                   SHARDSAFE_BENCH_ITERATIONS=11 the iterations
//
// Each comparison runs 7 iterations of "curl's transfer, then shardsafe's", alternating so
// that the drift of a shared, noisy machine hits both sides alike, and reports the median
// MiB/s of each side and the median of the per-iteration ratios shardsafe / curl:
//   UploadSinglePut  `curl -T file` (one PUT) vs the writer opened with upload_part_size >= the
//                    object, so that it sends one PUT too.
//   UploadMultipart  curl making the driver's multipart upload: POST ?uploads, the 8 MiB parts
//                    PUT 4 at a time (one `curl --parallel --parallel-max 4`), POST ?uploadId
//                    with the parts' ETags; vs the writer with its default part size (8 MiB)
//                    and concurrency (4), which uploads anything larger than one part this way.
//   Download         one curl GET to /dev/null vs the driver's reader (ranged GETs, 4 ahead).
// Multipart is not compared with a single PUT because that measures s3rver, not the client:
// s3rver stores the parts, then CompleteMultipartUpload rewrites the whole object, so there a
// multipart upload costs about twice a single PUT whatever the client does.
//
// Each row runs against s3rver over HTTP and again over HTTPS (a self-signed certificate that
// curl gets with --cacert, the driver with ca_file).
//
// Both sides upload the same file from the page cache; curl's copy is split into part files,
// and each part's MD5 (its ETag) computed, before any timing. curl signs with --aws-sigv4 and
// an UNSIGNED-PAYLOAD body hash. The driver does the same over HTTPS (its default there), and
// over HTTP signs each body's SHA-256: that hashing is a cost of the driver and is timed. Every transfer is checked (curl --fail, s3rver's
// CompleteMultipartUploadResult, the object's size afterwards), so a failure cannot look fast.
// Downloads discard their bytes, so the process's peak RSS (VmHWM, reset before each
// shardsafe transfer) is the driver's buffers: about upload_part_size x (upload_concurrency
// + 1) when writing, a few download chunks when reading.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "storage/hash.h"
#include "storage/open.h"
#include "storage/s3rver.h"

namespace {

using namespace shardsafe::storage;
using shardsafe::storage::testing::S3rver;
using shardsafe::storage::testing::SelfSignedCertificate;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::uint64_t kBytes = (std::getenv("SHARDSAFE_BENCH_MIB") ? std::stoull(std::getenv("SHARDSAFE_BENCH_MIB")) : 128)
                             << 20;
constexpr const char* kBucket = "bench";
constexpr std::uint64_t kPartSize = 8u << 20;  // the driver's default upload_part_size
constexpr int kPartsInFlight = 4;               // the driver's default upload_concurrency
const int kIterations = std::getenv("SHARDSAFE_BENCH_ITERATIONS") ? std::stoi(std::getenv("SHARDSAFE_BENCH_ITERATIONS")) : 7;

// s3rver over HTTP and over HTTPS (a self-signed certificate both sides are given as the CA),
// each for the whole run, with what curl and the driver need to reach it.
class Endpoint {
 public:
  explicit Endpoint(const SelfSignedCertificate* tls)
      : server_(kBucket, tls), ca_file_(tls != nullptr ? tls->certificate_file() : "") {}

  std::unique_ptr<Storage> storage(const std::string& parameters = "") const {
    return open_storage("s3://" + std::string(kBucket) + "/bench?endpoint=" + server_.endpoint() +
                        "&path_style=true&access_key=S3RVER&secret_key=S3RVER" +
                        (ca_file_.empty() ? "" : "&ca_file=" + ca_file_) + parameters);
  }
  // curl's options for every request: s3rver's credentials, SigV4 with an unsigned payload.
  std::string curl() const {
    return "curl -sS --no-progress-meter --fail --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER "
           "-H \"x-amz-content-sha256: UNSIGNED-PAYLOAD\" " +
           (ca_file_.empty() ? "" : "--cacert " + ca_file_ + " ");
  }
  std::string object_url(const std::string& key) const {
    return server_.endpoint() + "/" + kBucket + "/bench/" + key;
  }

 private:
  S3rver server_;
  std::string ca_file_;
};

const Endpoint& http() {
  static const Endpoint instance(nullptr);
  return instance;
}
const Endpoint& https() {
  static const SelfSignedCertificate certificate;
  static const Endpoint instance(&certificate);
  return instance;
}

// The bytes both sides upload: incompressible, in one file and split into the driver's parts
// with each part's MD5 hex (s3rver's ETag for it). Made once, before any timing.
class UploadFiles {
 public:
  UploadFiles() {
    char dir[] = "/tmp/shardsafe-bench-upload-XXXXXX";
    dir_ = ::mkdtemp(dir);
    std::ofstream whole(this->whole(), std::ios::binary);
    std::mt19937_64 generator{42};
    std::vector<std::uint64_t> buffer((1 << 20) / 8);
    for (std::uint64_t offset = 0; offset < kBytes; offset += kPartSize) {
      parts_.push_back(dir_ / ("part" + std::to_string(parts_.size() + 1)));
      std::ofstream part(parts_.back(), std::ios::binary);
      Digest md5(DigestAlgorithm::kMd5);
      for (std::uint64_t left = std::min(kPartSize, kBytes - offset); left > 0;) {
        std::generate(buffer.begin(), buffer.end(), std::ref(generator));
        const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(buffer.data()),
                                                  std::min<std::uint64_t>(left, buffer.size() * 8));
        whole.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        part.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        md5.update(bytes);
        left -= bytes.size();
      }
      part_md5_.push_back(md5.final_hex());
      if (!part) std::abort();
    }
    if (!whole) std::abort();
  }
  ~UploadFiles() { fs::remove_all(dir_); }

  fs::path whole() const { return dir_ / "whole"; }
  const std::vector<fs::path>& parts() const { return parts_; }
  const std::vector<std::string>& part_md5() const { return part_md5_; }

 private:
  fs::path dir_;
  std::vector<fs::path> parts_;
  std::vector<std::string> part_md5_;
};

const UploadFiles& upload_files() {
  static const UploadFiles instance;
  return instance;
}

// The upload file for the driver, read like curl reads it.
class FileSource : public Source {
 public:
  explicit FileSource(const fs::path& path) : in_(path, std::ios::binary) {}
  std::size_t read(std::span<std::uint8_t> buffer) override {
    in_.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
    return static_cast<std::size_t>(in_.gcount());
  }

 private:
  std::ifstream in_;
};

class NullSink : public Sink {
 public:
  void write(std::span<const std::uint8_t> bytes) override { received += bytes.size(); }
  void finish() override {}
  std::uint64_t received = 0;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "failed: %s\n", what.c_str());
  std::exit(1);
}

void run_or_die(const std::string& command) {
  if (std::system(command.c_str()) != 0) die(command);
}

// The command's standard output; dies unless it exits 0.
std::string output_or_die(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) die(command);
  std::string output;
  char buffer[4096];
  for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, got);
  if (::pclose(pipe) != 0) die(command);
  return output;
}

std::string xml_value(const std::string& xml, const std::string& element) {
  const auto open = "<" + element + ">";
  const auto start = xml.find(open);
  const auto end = xml.find("</" + element + ">");
  if (start == std::string::npos || end == std::string::npos) die("no <" + element + "> in: " + xml);
  return xml.substr(start + open.size(), end - start - open.size());
}

// After a transfer, outside the timing: the object is all there.
void expect_full_object(Storage& s3, const std::string& key) {
  const auto info = s3.stat(key);
  if (!info || info->size != kBytes) die("object " + key + " is not " + std::to_string(kBytes) + " bytes");
}

// The driver's multipart upload of the part files, made by the curl command.
void curl_multipart_upload(const Endpoint& endpoint, const std::string& key) {
  const auto url = endpoint.object_url(key);
  const auto& files = upload_files();
  const auto upload_id = xml_value(output_or_die(endpoint.curl() + "-X POST \"" + url + "?uploads\""), "UploadId");
  auto parts = endpoint.curl() + "--parallel --parallel-max " + std::to_string(kPartsInFlight);
  std::string complete = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < files.parts().size(); ++i) {
    const auto number = std::to_string(i + 1);
    parts += " -o /dev/null -T " + files.parts()[i].string() + " \"" + url + "?partNumber=" + number +
             "&uploadId=" + upload_id + "\"";
    complete += "<Part><PartNumber>" + number + "</PartNumber><ETag>\"" + files.part_md5()[i] + "\"</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";
  run_or_die(parts);
  const auto result =
      output_or_die(endpoint.curl() + "--data-binary '" + complete + "' \"" + url + "?uploadId=" + upload_id + "\"");
  if (result.find("<CompleteMultipartUploadResult") == std::string::npos) die("CompleteMultipartUpload: " + result);
}

void shardsafe_upload(Storage& s3, const std::string& key) {
  FileSource source(upload_files().whole());
  auto writer = s3.create(key);
  if (pump(source, *writer) != kBytes) die("short read of " + upload_files().whole().string());
  writer->commit();
}

template <typename Transfer>
double seconds_of(Transfer transfer) {
  const auto start = Clock::now();
  transfer();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Times `upload`, then checks (untimed) that `key` holds the whole object: a failed upload
// cannot look fast.
template <typename Upload>
double timed_upload(Storage& s3, const std::string& key, Upload upload) {
  const double seconds = seconds_of(upload);
  expect_full_object(s3, key);
  return seconds;
}

double mib_per_second(double seconds) { return static_cast<double>(kBytes) / (1 << 20) / seconds; }

// Peak resident memory of this process since the last reset, in MiB.
// malloc_trim first hands the heap earlier rows freed back to the kernel, so that it does not
// count as this row's memory.
void reset_peak_memory() {
  ::malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}
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

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

struct Comparison {
  double curl_mib_s = 0;
  double shardsafe_mib_s = 0;
  double ratio = 0;  // median of the per-iteration ratios, not the ratio of the medians
  double peak_mib = 0;
};
std::vector<std::pair<std::string, Comparison>> comparisons;  // in run order, for the summary table

// Each iteration times curl's transfer, then shardsafe's (each callable returns its seconds,
// so that checks after a transfer stay out of the timing); the benchmark's own time is
// shardsafe's. Peak RSS is the highest VmHWM over shardsafe's transfers.
template <typename Curl, typename Shardsafe>
void run_side_by_side(benchmark::State& state, const std::string& name, Curl curl, Shardsafe shardsafe) {
  std::vector<double> curl_rates, our_rates, ratios;
  double peak = 0;
  for (auto _ : state) {
    curl_rates.push_back(mib_per_second(curl()));
    reset_peak_memory();
    const auto our_seconds = shardsafe();
    peak = std::max(peak, peak_memory_mib());
    our_rates.push_back(mib_per_second(our_seconds));
    ratios.push_back(our_rates.back() / curl_rates.back());
    state.SetIterationTime(our_seconds);
  }
  const Comparison result{median(curl_rates), median(our_rates), median(ratios), peak};
  comparisons.emplace_back(name, result);
  state.counters["curl_MiB/s"] = result.curl_mib_s;
  state.counters["shardsafe_MiB/s"] = result.shardsafe_mib_s;
  state.counters["ratio"] = result.ratio;
  // The spread, to tell a steady ratio from the noise of a loaded machine.
  state.counters["ratio_min"] = *std::min_element(ratios.begin(), ratios.end());
  state.counters["ratio_max"] = *std::max_element(ratios.begin(), ratios.end());
  state.counters["peak_MiB"] = result.peak_mib;
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBytes));
}

// Each benchmark takes its row's name and the endpoint (http or https) it runs against.
using EndpointOf = const Endpoint& (*)();

void UploadSinglePut(benchmark::State& state, const char* name, EndpointOf endpoint_of) {
  const auto& endpoint = endpoint_of();
  // A part as large as the object (S3's minimum part is 5 MiB): the writer's one PUT at commit.
  auto s3 = endpoint.storage("&upload_part_size=" + std::to_string(std::max<std::uint64_t>(kBytes, 5u << 20)));
  run_side_by_side(
      state, name,
      [&] {
        return timed_upload(*s3, "curl-single", [&] {
          run_or_die(endpoint.curl() + "-o /dev/null -T " + upload_files().whole().string() + " \"" +
                     endpoint.object_url("curl-single") + "\"");
        });
      },
      [&] { return timed_upload(*s3, "shardsafe-single", [&] { shardsafe_upload(*s3, "shardsafe-single"); }); });
}

void UploadMultipart(benchmark::State& state, const char* name, EndpointOf endpoint_of) {
  if (kBytes <= kPartSize) {
    state.SkipWithError("SHARDSAFE_BENCH_MIB must exceed 8 (one part) for a multipart upload");
    return;
  }
  const auto& endpoint = endpoint_of();
  // The defaults, spelled out so that curl's side keeps matching them.
  auto s3 = endpoint.storage("&upload_part_size=" + std::to_string(kPartSize) +
                             "&upload_concurrency=" + std::to_string(kPartsInFlight));
  run_side_by_side(
      state, name,
      [&] { return timed_upload(*s3, "curl-multipart", [&] { curl_multipart_upload(endpoint, "curl-multipart"); }); },
      [&] { return timed_upload(*s3, "shardsafe-multipart", [&] { shardsafe_upload(*s3, "shardsafe-multipart"); }); });
}

void Download(benchmark::State& state, const char* name, EndpointOf endpoint_of) {
  const auto& endpoint = endpoint_of();
  auto s3 = endpoint.storage();
  // One object for both sides, put there untimed.
  run_or_die(endpoint.curl() + "-o /dev/null -T " + upload_files().whole().string() + " \"" +
             endpoint.object_url("download") + "\"");
  expect_full_object(*s3, "download");
  std::uint64_t disk_bytes = 0;  // written by this process during shardsafe's downloads
  run_side_by_side(
      state, name,
      [&] { return seconds_of([&] { run_or_die(endpoint.curl() + "-o /dev/null \"" + endpoint.object_url("download") + "\""); }); },
      [&] {
        NullSink sink;
        const auto written_before = bytes_written_to_disk();
        const auto seconds = seconds_of([&] { pump(*s3->open("download"), sink); });
        disk_bytes += bytes_written_to_disk() - written_before;
        if (sink.received != kBytes) die("downloaded " + std::to_string(sink.received) + " bytes");
        return seconds;
      });
  state.counters["disk_bytes_written"] = static_cast<double>(disk_bytes);
}

// Each transfer is seconds long: a few iterations are plenty. Over HTTPS the driver sends
// UNSIGNED-PAYLOAD, as curl does throughout; over HTTP it signs each body's SHA-256.
#define SIDE_BY_SIDE(function, scheme) \
  BENCHMARK_CAPTURE(function, scheme, #function " " #scheme, scheme) \
      ->Iterations(kIterations)                                        \
      ->Unit(benchmark::kMillisecond)                                  \
      ->UseManualTime()
SIDE_BY_SIDE(UploadSinglePut, http);
SIDE_BY_SIDE(UploadMultipart, http);
SIDE_BY_SIDE(Download, http);
SIDE_BY_SIDE(UploadSinglePut, https);
SIDE_BY_SIDE(UploadMultipart, https);
SIDE_BY_SIDE(Download, https);

}  // namespace

int main(int argc, char** argv) {
  ::mallopt(M_ARENA_MAX, 2);  // as the shardsafe command sets it (src/cli/main.cpp)
  benchmark::Initialize(&argc, argv);
  upload_files();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::printf("\n%llu MiB per transfer to s3rver on loopback; medians of %d alternating iterations\n",
              static_cast<unsigned long long>(kBytes >> 20), kIterations);
  for (const auto& [name, result] : comparisons) {
    std::printf("%-22s shardsafe %7.1f MiB/s  curl %7.1f MiB/s  ratio %.2f  peak RSS %.0f MiB\n", name.c_str(),
                result.shardsafe_mib_s, result.curl_mib_s, result.ratio, result.peak_mib);
  }
  return 0;
}

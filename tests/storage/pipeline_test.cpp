// Stored streams on the file:// driver: every compression x encryption x split combination
// round-trips, and damage, wrong keys and truncation are caught and named.
#include <cstdlib>
#include <fstream>
#include <random>

#include "storage/conformance.h"
#include "storage/crypto.h"
#include "storage/fs/fs_storage.h"
#include "storage/hash.h"
#include "storage/pipeline.h"
#include "storage/temp_dir.h"

namespace shardsafe::storage::testing {
namespace {

// Compressible but not trivially so: words from a small vocabulary in random order.
std::vector<std::uint8_t> sample_data(std::size_t size) {
  static const char* kWords[] = {"shard ", "replica ", "oplog ", "chunk ", "{\"_id\": ", "balancer ", "42, "};
  std::vector<std::uint8_t> data;
  std::mt19937 generator(3);
  while (data.size() < size) {
    const std::string word = kWords[generator() % 7];
    data.insert(data.end(), word.begin(), word.end());
  }
  data.resize(size);
  return data;
}

EncryptionKey test_key(std::uint8_t fill) {
  std::vector<std::uint8_t> bytes(32, fill);
  return EncryptionKey{bytes, key_id_of(bytes)};
}

StoredStream store(Storage& storage, const std::string& key, std::span<const std::uint8_t> data,
                   const StreamOptions& options) {
  auto writer = write_stream(storage, key, options);
  std::size_t slice = 1000;
  while (!data.empty()) {
    const auto n = std::min(slice, data.size());
    writer->write(data.first(n));
    data = data.subspan(n);
    slice = slice * 2 + 1;
  }
  return writer->commit();
}

std::vector<std::uint8_t> load(Storage& storage, const StoredStream& stream,
                               const std::optional<EncryptionKey>& key) {
  return read_all(*read_stream(storage, stream, key));
}

void rewrite_file(const std::filesystem::path& path, const std::function<void(std::string&)>& change) {
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  change(bytes);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

struct Combination {
  Compression compression;
  bool encrypted;
  bool split;
  int threads;
};

class PipelineRoundTrip : public ::testing::TestWithParam<Combination> {
 protected:
  TempDir dir_;
  FsStorage storage_{dir_.path()};
};

TEST_P(PipelineRoundTrip, ReadsBackWhatWasWrittenAndRecordsEveryPart) {
  const auto [compression, encrypted, split, threads] = GetParam();
  const auto data = sample_data(600'000);
  StreamOptions options;
  options.compression = compression;
  options.compression_threads = threads;
  if (encrypted) options.encryption = test_key(7);
  options.part_size = split ? 20'000 : 512ull << 20;

  const auto stream = store(storage_, "backups/x/rs0/db/coll.bson", data, options);
  EXPECT_EQ(stream.raw_size, data.size());
  EXPECT_EQ(stream.key, "backups/x/rs0/db/coll.bson");
  EXPECT_EQ(stream.encryption_key_id, encrypted ? options.encryption->id : "");
  const auto name = "backups/x/rs0/db/coll.bson" + compression_suffix(compression);
  if (split) {
    ASSERT_GT(stream.parts.size(), 2u);
    EXPECT_EQ(stream.parts[0].key, name + ".000");
    EXPECT_EQ(stream.parts[2].key, name + ".002");
  } else {
    ASSERT_EQ(stream.parts.size(), 1u);
    EXPECT_EQ(stream.parts[0].key, name);
  }
  // The storage holds exactly the recorded parts, with the recorded sizes and hashes.
  const auto listed = list_all(storage_, "backups/");
  ASSERT_EQ(listed.size(), stream.parts.size());
  for (std::size_t i = 0; i < listed.size(); ++i) {
    EXPECT_EQ(listed[i].key, stream.parts[i].key);
    EXPECT_EQ(listed[i].size, stream.parts[i].size);
    EXPECT_LE(stream.parts[i].size, options.part_size);
    EXPECT_EQ(sha256_hex(read_object(storage_, listed[i].key)), stream.parts[i].sha256);
  }
  if (compression != Compression::kNone && !encrypted) {
    std::uint64_t stored = 0;
    for (const auto& part : stream.parts) stored += part.size;
    EXPECT_LT(stored, data.size() / 3) << "compression had no effect";
  }
  EXPECT_EQ(load(storage_, stream, options.encryption), data);
}

std::vector<Combination> all_combinations() {
  std::vector<Combination> out;
  for (auto compression : {Compression::kNone, Compression::kZstd, Compression::kGzip}) {
    for (bool encrypted : {false, true}) {
      for (bool split : {false, true}) out.push_back({compression, encrypted, split, 0});
    }
  }
  out.push_back({Compression::kZstd, true, true, 2});
  out.push_back({Compression::kZstd, false, false, 2});
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllFilters, PipelineRoundTrip, ::testing::ValuesIn(all_combinations()),
                         [](const auto& info) {
                           const auto& c = info.param;
                           return compression_name(c.compression) + (c.encrypted ? "_aes" : "_plain") +
                                  (c.split ? "_split" : "_whole") + "_threads" + std::to_string(c.threads);
                         });

class PipelineDamage : public ::testing::Test {
 protected:
  StoredStream store_sample(Compression compression, bool encrypted, std::uint64_t part_size = 50'000) {
    StreamOptions options;
    options.compression = compression;
    if (encrypted) options.encryption = test_key(1);
    options.part_size = part_size;
    return store(storage_, "obj", sample_data(400'000), options);
  }
  std::filesystem::path path_of(const std::string& key) { return dir_.path() / key; }

  TempDir dir_;
  FsStorage storage_{dir_.path()};
};

TEST_F(PipelineDamage, FlippedByteIsAChecksumMismatchNamingThePart) {
  for (auto compression : {Compression::kNone, Compression::kZstd, Compression::kGzip}) {
    for (bool encrypted : {false, true}) {
      const auto stream = store_sample(compression, encrypted, 3000);
      ASSERT_GE(stream.parts.size(), 2u);
      const auto& victim = stream.parts[1];
      rewrite_file(path_of(victim.key), [](std::string& bytes) { bytes[bytes.size() / 2] ^= 0x10; });
      std::string message;
      EXPECT_EQ(error_code_of([&] { load(storage_, stream, test_key(1)); }, &message), ErrorCode::kChecksumMismatch)
          << compression_name(compression) << " encrypted=" << encrypted << ": " << message;
      EXPECT_NE(message.find(victim.key), std::string::npos) << message;
      storage_.remove({stream.parts.front().key});
      for (const auto& part : stream.parts) storage_.remove({part.key});
    }
  }
}

TEST_F(PipelineDamage, MissingOrShortPartIsReported) {
  auto stream = store_sample(Compression::kZstd, false, 3000);
  rewrite_file(path_of(stream.parts.back().key), [](std::string& bytes) { bytes.pop_back(); });
  std::string message;
  EXPECT_EQ(error_code_of([&] { load(storage_, stream, std::nullopt); }, &message), ErrorCode::kChecksumMismatch);
  EXPECT_NE(message.find(stream.parts.back().key), std::string::npos) << message;
  storage_.remove({stream.parts[0].key});
  EXPECT_EQ(error_code_of([&] { load(storage_, stream, std::nullopt); }, &message), ErrorCode::kNotFound);
  EXPECT_NE(message.find(stream.parts[0].key), std::string::npos) << message;
}

TEST_F(PipelineDamage, WrongOrMissingKeyNamesTheObject) {
  const auto stream = store_sample(Compression::kZstd, true);
  std::string message;
  EXPECT_EQ(error_code_of([&] { load(storage_, stream, test_key(2)); }, &message), ErrorCode::kWrongKey);
  EXPECT_NE(message.find("obj.zst"), std::string::npos) << message;
  EXPECT_EQ(error_code_of([&] { load(storage_, stream, std::nullopt); }, &message), ErrorCode::kWrongKey);
  EXPECT_NE(message.find("obj.zst"), std::string::npos) << message;
  // A manifest that lost the key id: the header inside the object still tells.
  auto stripped = stream;
  stripped.encryption_key_id.clear();
  EXPECT_EQ(error_code_of([&] { load(storage_, stripped, test_key(2)); }), ErrorCode::kCorruptData);
}

// Truncation that the manifest agrees with (e.g. the writer died and a bad manifest was
// written): the filters themselves must notice the stream ends early.
TEST_F(PipelineDamage, TruncatedStreamIsCorruptData) {
  for (auto compression : {Compression::kNone, Compression::kZstd, Compression::kGzip}) {
    for (bool encrypted : {false, true}) {
      if (compression == Compression::kNone && !encrypted) continue;  // nothing could tell
      auto stream = store_sample(compression, encrypted, 1ull << 30);
      auto& part = stream.parts[0];
      rewrite_file(path_of(part.key), [](std::string& bytes) { bytes.resize(bytes.size() - 100); });
      part.size -= 100;
      part.sha256 = sha256_hex(read_object(storage_, part.key));
      std::string message;
      EXPECT_EQ(error_code_of([&] { load(storage_, stream, test_key(1)); }, &message), ErrorCode::kCorruptData)
          << compression_name(compression) << " encrypted=" << encrypted << ": " << message;
      EXPECT_NE(message.find(part.key), std::string::npos) << message;
      storage_.remove({part.key});
    }
  }
}

TEST_F(PipelineDamage, TamperedChunkWithMatchingManifestFailsAuthentication) {
  auto stream = store_sample(Compression::kNone, true, 1ull << 30);
  auto& part = stream.parts[0];
  rewrite_file(path_of(part.key), [](std::string& bytes) { bytes[200'000] ^= 1; });
  part.sha256 = sha256_hex(read_object(storage_, part.key));
  std::string message;
  EXPECT_EQ(error_code_of([&] { load(storage_, stream, test_key(1)); }, &message), ErrorCode::kCorruptData);
  EXPECT_NE(message.find("authentication"), std::string::npos) << message;
  EXPECT_NE(message.find("obj"), std::string::npos) << message;
}

TEST(Pipeline, StreamOfExactlyPartSizeStaysOneObject) {
  TempDir dir;
  FsStorage storage(dir.path());
  StreamOptions options;
  options.compression = Compression::kNone;
  options.part_size = 1000;
  const auto stream = store(storage, "exact", random_bytes(1000), options);
  ASSERT_EQ(stream.parts.size(), 1u);
  EXPECT_EQ(stream.parts[0].key, "exact");
  const auto bigger = store(storage, "bigger", random_bytes(1001), options);
  ASSERT_EQ(bigger.parts.size(), 2u);
  EXPECT_EQ(bigger.parts[1].size, 1u);
  EXPECT_EQ(load(storage, bigger, std::nullopt), random_bytes(1001));
  const auto empty = store(storage, "empty", {}, options);
  ASSERT_EQ(empty.parts.size(), 1u);
  EXPECT_TRUE(load(storage, empty, std::nullopt).empty());
}

TEST(Pipeline, WriterDestroyedWithoutCommitRemovesEveryPart) {
  TempDir dir;
  FsStorage storage(dir.path());
  StreamOptions options;
  options.part_size = 1000;
  {
    auto writer = write_stream(storage, "abandoned", options);
    writer->write(random_bytes(10'000));
  }
  EXPECT_TRUE(list_all(storage, "").empty());
}

TEST(Pipeline, GzipOutputIsReadByGunzip) {
  TempDir dir;
  FsStorage storage(dir.path());
  StreamOptions options;
  options.compression = Compression::kGzip;
  const auto data = sample_data(300'000);
  const auto stream = store(storage, "coll.bson", data, options);
  const auto command = "gunzip -c '" + (dir.path() / "coll.bson.gz").string() + "' > '" +
                       (dir.path() / "plain").string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(read_object(storage, "plain"), data);
}

TEST(Pipeline, ReadsGzipWrittenByGzip) {
  TempDir dir;
  FsStorage storage(dir.path());
  const auto data = sample_data(200'000);
  put(storage, "in", data);
  // Two members, as `cat a.gz b.gz` makes: both must be read.
  const auto in = (dir.path() / "in").string();
  const auto command = "gzip -c '" + in + "' > '" + in + ".gz' && gzip -c '" + in + "' >> '" + in + ".gz'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const auto stored = read_object(storage, "in.gz");
  StoredStream stream{"in", {{"in.gz", stored.size(), sha256_hex(stored)}}, 0, Compression::kGzip, ""};
  auto twice = data;
  twice.insert(twice.end(), data.begin(), data.end());
  EXPECT_EQ(load(storage, stream, std::nullopt), twice);
}

TEST(Pipeline, CompressionNames) {
  EXPECT_EQ(parse_compression("gzip"), Compression::kGzip);
  EXPECT_EQ(compression_name(parse_compression("zstd")), "zstd");
  std::string message;
  EXPECT_EQ(error_code_of([&] { parse_compression("lz4"); }, &message), ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("lz4"), std::string::npos);
}

// Bytes made on the fly, so the test itself holds no copy of the stream.
class GeneratedSource : public Source {
 public:
  explicit GeneratedSource(std::uint64_t size) : left_(size) {}
  std::size_t read(std::span<std::uint8_t> buffer) override {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), left_));
    for (std::size_t i = 0; i < n; ++i) buffer[i] = static_cast<std::uint8_t>(generator_());
    left_ -= n;
    return n;
  }

 private:
  std::uint64_t left_;
  std::minstd_rand generator_{1};
};

std::uint64_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmHWM:")) return std::stoull(line.substr(6));
  }
  return 0;
}

TEST(Pipeline, MemoryStaysBoundedRegardlessOfStreamSize) {
  TempDir dir;
  FsStorage storage(dir.path());
  StreamOptions options;
  options.encryption = test_key(3);
  options.part_size = 40ull << 20;
  constexpr std::uint64_t kSize = 96ull << 20;
  std::ofstream("/proc/self/clear_refs") << "5";  // restart the peak-RSS count here
  const auto before = peak_rss_kib();

  GeneratedSource source(kSize);
  auto writer = write_stream(storage, "big", options);
  pump(source, *writer);
  const auto stream = writer->commit();
  EXPECT_EQ(stream.parts.size(), 3u);
  Sha256Sink digest;
  EXPECT_EQ(pump(*read_stream(storage, stream, options.encryption), digest), kSize);

  const auto grew_mib = static_cast<double>(peak_rss_kib() - before) / 1024;
  EXPECT_LT(grew_mib, 32) << "a 96 MiB stream must not be held in memory";
  RecordProperty("peak_rss_growth_mib", std::to_string(grew_mib));
}

TEST(EncryptionKeys, LoadedFromFileOrEnvironmentWithoutEchoingTheKey) {
  TempDir dir;
  const std::string hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  std::ofstream(dir.path() / "hex.key") << hex << "\n";
  const auto from_hex = load_key_from_file((dir.path() / "hex.key").string());
  EXPECT_EQ(to_hex(from_hex.bytes), hex);
  EXPECT_EQ(from_hex.id.size(), 16u);
  EXPECT_EQ(hex.find(from_hex.id), std::string::npos) << "the id must not be part of the key";

  std::ofstream(dir.path() / "raw.key", std::ios::binary).write(reinterpret_cast<const char*>(from_hex.bytes.data()), 32);
  EXPECT_EQ(load_key_from_file((dir.path() / "raw.key").string()).id, from_hex.id);

  ::setenv("SHARDSAFE_TEST_KEY", hex.c_str(), 1);
  EXPECT_EQ(load_key_from_env("SHARDSAFE_TEST_KEY").bytes, from_hex.bytes);
  const std::string bad = hex.substr(0, 60) + "zzzz";
  ::setenv("SHARDSAFE_TEST_KEY", bad.c_str(), 1);
  std::string message;
  EXPECT_EQ(error_code_of([&] { load_key_from_env("SHARDSAFE_TEST_KEY"); }, &message), ErrorCode::kInvalidArgument);
  EXPECT_EQ(message.find(bad.substr(0, 16)), std::string::npos) << message;
  ::unsetenv("SHARDSAFE_TEST_KEY");
  EXPECT_EQ(error_code_of([&] { load_key_from_env("SHARDSAFE_TEST_KEY"); }), ErrorCode::kInvalidArgument);

  std::ofstream(dir.path() / "short.key") << "abc";
  EXPECT_EQ(error_code_of([&] { load_key_from_file((dir.path() / "short.key").string()); }, &message),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_code_of([&] { load_key_from_file((dir.path() / "none.key").string()); }),
            ErrorCode::kInvalidArgument);
}

TEST(EncryptionKeys, SameDataEncryptsDifferentlyEachTime) {
  TempDir dir;
  FsStorage storage(dir.path());
  StreamOptions options;
  options.compression = Compression::kNone;
  options.encryption = test_key(9);
  const auto data = sample_data(1000);
  const auto a = store(storage, "a", data, options);
  const auto b = store(storage, "b", data, options);
  EXPECT_NE(a.parts[0].sha256, b.parts[0].sha256) << "nonce prefixes must be random per stream";
  const auto stored = read_object(storage, "a");
  const std::string text(stored.begin(), stored.end());
  EXPECT_EQ(text.find("shard "), std::string::npos) << "plaintext leaked";
}

}  // namespace
}  // namespace shardsafe::storage::testing

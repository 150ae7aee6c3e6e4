#include "storage/pipeline.h"

#include <cstdio>
#include <optional>

#include "common/error.h"
#include "storage/compress.h"
#include "storage/crypto.h"
#include "storage/hash.h"
#include "storage/key.h"

namespace shardsafe::storage {
namespace {

std::string part_name(const std::string& object, std::size_t index) {
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), ".%03zu", index);
  return object + suffix;
}

// Cuts the stored byte stream into objects of at most part_size bytes, hashing each.
//
// Whether a stream needs more than one part is only known once it outgrows the first, so
// the first part is written as `<object>`; when a byte arrives for a second part, the first
// is committed and renamed to `<object>.000` (a rename on file://, a server-side copy on S3).
// A full part is closed only when the next byte arrives, so a stream of exactly part_size
// bytes stays one object.
class SplittingSink : public Sink {
 public:
  SplittingSink(Storage& storage, std::string object, std::uint64_t part_size)
      : storage_(storage), object_(std::move(object)), part_size_(part_size) {}

  ~SplittingSink() override {
    if (committed_) return;
    writer_.reset();  // aborts the part being written
    std::vector<std::string> keys;
    for (const auto& part : parts_) keys.push_back(part.key);
    try {
      storage_.remove(keys);
    } catch (const std::exception&) {
      // Best effort: the parts are not in any manifest, so they are unreachable garbage.
    }
  }

  void write(std::span<const std::uint8_t> bytes) override {
    while (!bytes.empty()) {
      if (!writer_ || current_size_ == part_size_) start_part();
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), part_size_ - current_size_));
      writer_->write(bytes.first(n));
      digest_->update(bytes.first(n));
      current_size_ += n;
      bytes = bytes.subspan(n);
    }
  }

  void finish() override {
    if (!writer_) start_part();
    close_part();
  }

  // REQUIRES: finish() was called.
  std::vector<StoredPart> take_parts() {
    committed_ = true;
    return std::move(parts_);
  }

 private:
  void start_part() {
    if (writer_) close_part();
    if (parts_.size() == 1 && parts_[0].key == object_) {
      const auto first = part_name(object_, 0);
      storage_.rename(object_, first);
      parts_[0].key = first;
    }
    current_key_ = parts_.empty() ? object_ : part_name(object_, parts_.size());
    writer_ = storage_.create(current_key_);
    digest_.emplace(DigestAlgorithm::kSha256);
    current_size_ = 0;
  }

  void close_part() {
    writer_->commit();
    writer_.reset();
    parts_.push_back(StoredPart{current_key_, current_size_, digest_->final_hex()});
  }

  Storage& storage_;
  std::string object_;
  std::uint64_t part_size_;
  std::unique_ptr<Writer> writer_;
  std::optional<Digest> digest_;
  std::string current_key_;
  std::uint64_t current_size_ = 0;
  std::vector<StoredPart> parts_;
  bool committed_ = false;
};

// raw bytes -> compress -> encrypt -> split. Members are declared in data-flow order reversed
// so each filter is destroyed before the sink it writes to.
class PipelineWriter : public StreamWriter {
 public:
  PipelineWriter(Storage& storage, const std::string& key, const StreamOptions& options)
      : splitter_(storage, options.suffix_names ? key + compression_suffix(options.compression) : key,
                  options.part_size) {
    result_.key = key;
    result_.compression = options.compression;
    Sink* head = &splitter_;
    if (options.encryption) {
      result_.encryption_key_id = options.encryption->id;
      encrypt_ = make_encrypt_sink(*options.encryption, *head);
      head = encrypt_.get();
    }
    compress_ = make_compress_sink(options.compression, options.compression_level, options.compression_threads, *head);
  }

  void write(std::span<const std::uint8_t> bytes) override {
    compress_->write(bytes);
    result_.raw_size += bytes.size();
  }

  void finish() override {
    if (finished_) return;
    finished_ = true;
    compress_->finish();
  }

  StoredStream commit() override {
    finish();
    result_.parts = splitter_.take_parts();
    return result_;
  }

 private:
  SplittingSink splitter_;
  std::unique_ptr<Sink> encrypt_;
  std::unique_ptr<Sink> compress_;
  StoredStream result_;
  bool finished_ = false;
};

// Reads one stored part, checking its size and SHA-256 against the manifest at its end.
class VerifiedPart {
 public:
  VerifiedPart(Storage& storage, const StoredPart& part)
      : part_(part), source_(storage.open(part.key)), digest_(DigestAlgorithm::kSha256) {}

  std::size_t read(std::span<std::uint8_t> buffer) {
    const auto got = source_->read(buffer);
    digest_.update(buffer.first(got));
    size_ += got;
    if (size_ > part_.size) mismatch("it holds more than " + std::to_string(part_.size) + " bytes");
    if (got == 0) verify_end();
    return got;
  }

  // Reads the rest of the part and throws kChecksumMismatch when it is not what the
  // manifest says; returns normally when it is.
  void drain() {
    std::vector<std::uint8_t> buffer(1 << 20);
    while (read(buffer) > 0) {
    }
  }

 private:
  void verify_end() {
    if (size_ != part_.size) {
      mismatch("size " + std::to_string(size_) + " bytes, expected " + std::to_string(part_.size));
    }
    const auto actual = digest_.final_hex();
    if (actual != part_.sha256) mismatch("SHA-256 " + actual + ", expected " + part_.sha256);
  }

  [[noreturn]] void mismatch(const std::string& why) const {
    throw Error(ErrorCode::kChecksumMismatch, "object \"" + part_.key + "\" does not match the manifest: " + why);
  }

  const StoredPart& part_;
  std::unique_ptr<Source> source_;
  Digest digest_;
  std::uint64_t size_ = 0;
};

// The parts of a stream, one after another, each verified.
class PartsSource : public Source {
 public:
  PartsSource(Storage& storage, const StoredStream& stream) : storage_(storage), parts_(stream.parts) {}

  std::size_t read(std::span<std::uint8_t> buffer) override {
    while (next_ <= parts_.size()) {
      if (!current_) {
        if (next_ == parts_.size()) return 0;
        current_.emplace(storage_, parts_[next_++]);
      }
      const auto got = current_->read(buffer);
      if (got > 0) return got;
      current_.reset();
    }
    return 0;
  }

  // When a filter downstream finds the bytes undecodable, a damaged part is the likelier
  // and more useful diagnosis: throws kChecksumMismatch if the part being read is damaged.
  void diagnose() {
    if (current_) current_->drain();
  }

 private:
  Storage& storage_;
  std::vector<StoredPart> parts_;
  std::optional<VerifiedPart> current_;
  std::size_t next_ = 0;
};

class PipelineReader : public Source {
 public:
  PipelineReader(Storage& storage, const StoredStream& stream, const std::optional<EncryptionKey>& key)
      : parts_(storage, stream) {
    const auto name = stream.parts.empty() ? stream.key : stream.parts.front().key;
    Source* head = &parts_;
    if (!stream.encryption_key_id.empty()) {
      if (!key) {
        throw Error(ErrorCode::kWrongKey, "object \"" + name + "\" is encrypted (key id " + stream.encryption_key_id +
                                              ") and no encryption key was given");
      }
      if (key->id != stream.encryption_key_id) {
        throw Error(ErrorCode::kWrongKey, "object \"" + name + "\" was encrypted with key id " +
                                              stream.encryption_key_id + ", not with the given key (id " + key->id +
                                              ")");
      }
      decrypt_ = make_decrypt_source(*key, *head, name);
      head = decrypt_.get();
    }
    decompress_ = make_decompress_source(stream.compression, *head, name);
    head_ = decompress_ ? decompress_.get() : head;
  }

  std::size_t read(std::span<std::uint8_t> buffer) override {
    try {
      return head_->read(buffer);
    } catch (const Error& error) {
      if (error.code() == ErrorCode::kCorruptData) parts_.diagnose();
      throw;
    }
  }

 private:
  PartsSource parts_;
  std::unique_ptr<Source> decrypt_;
  std::unique_ptr<Source> decompress_;
  Source* head_ = nullptr;
};

}  // namespace

Compression parse_compression(const std::string& name) {
  if (name == "none") return Compression::kNone;
  if (name == "zstd") return Compression::kZstd;
  if (name == "gzip") return Compression::kGzip;
  throw Error(ErrorCode::kInvalidArgument, "unknown compression \"" + name + "\" (expected none, zstd or gzip)");
}

std::string compression_name(Compression compression) {
  switch (compression) {
    case Compression::kZstd:
      return "zstd";
    case Compression::kGzip:
      return "gzip";
    case Compression::kNone:
      break;
  }
  return "none";
}

std::string compression_suffix(Compression compression) {
  switch (compression) {
    case Compression::kZstd:
      return ".zst";
    case Compression::kGzip:
      return ".gz";
    case Compression::kNone:
      break;
  }
  return "";
}

std::unique_ptr<StreamWriter> write_stream(Storage& storage, const std::string& key, const StreamOptions& options) {
  validate_key(key);
  if (options.part_size == 0) throw Error(ErrorCode::kInvalidArgument, "part size must be positive");
  return std::make_unique<PipelineWriter>(storage, key, options);
}

std::unique_ptr<Source> read_stream(Storage& storage, const StoredStream& stream,
                                    const std::optional<EncryptionKey>& key) {
  return std::make_unique<PipelineReader>(storage, stream, key);
}

}  // namespace shardsafe::storage

// Stored streams: one logical byte stream (a collection's BSON, an oplog slice) written
// through filters into one or more storage objects, and read back verified.
//
// Write path:  bytes -> compress -> encrypt -> split into parts -> per-part SHA-256 -> Writer
// Read path:   Reader(part) -> verify SHA-256 -> decrypt -> decompress -> bytes
// The result of writing (StoredStream) is what the manifest records; reading takes it back.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/storage.h"

namespace shardsafe::storage {

enum class Compression { kNone, kZstd, kGzip };

// "none", "zstd", "gzip". Throws Error(kInvalidArgument) naming the value otherwise.
Compression parse_compression(const std::string& name);
std::string compression_name(Compression compression);
// The file-name suffix a compression adds: "", ".zst", ".gz".
std::string compression_suffix(Compression compression);

// A 32-byte AES-256 key and the id recorded in manifests (a hash of the key, never the key).
struct EncryptionKey {
  std::vector<std::uint8_t> bytes;
  std::string id;
};
// Reads the key from a file (32 raw bytes or 64 hex characters) or from an environment
// variable holding 64 hex characters. Throws Error(kInvalidArgument) without echoing the key.
EncryptionKey load_key_from_file(const std::string& path);
EncryptionKey load_key_from_env(const std::string& variable);
// From 64 hex characters (how a coordinator hands the key to an agent's job); `what` names
// where the text came from in errors, which never echo the key.
EncryptionKey key_from_hex(const std::string& hex, const std::string& what);

struct StreamOptions {
  Compression compression = Compression::kZstd;
  int compression_level = 3;
  int compression_threads = 0;                     // zstd workers; 0 = compress inline
  std::optional<EncryptionKey> encryption;         // AES-256-GCM in authenticated chunks
  // A stream whose stored bytes exceed this is split into several objects. 512 MiB: S3 caps
  // an object at 5 TiB and a multipart upload at 10,000 parts, so parts this size never come
  // near either limit; a failed upload or a damaged object costs at most 512 MiB to redo or
  // re-read (restart granularity); and a collection of a few GiB still stays a handful of
  // objects in the manifest. 1 GiB would halve the object count but double the redo cost.
  std::uint64_t part_size = 512ull * 1024 * 1024;
  // Whether object names carry compression_suffix(). mongodump --gzip names its gzipped oplog
  // plain `oplog.bson`, and mongorestore --gzip --oplogReplay looks for that name.
  bool suffix_names = true;
};

// One storage object of a stream, as the manifest records it.
struct StoredPart {
  std::string key;
  std::uint64_t size = 0;  // bytes in storage
  std::string sha256;      // lowercase hex of the bytes in storage
};

struct StoredStream {
  std::string key;                  // the logical key; parts are key, or key.000, key.001...
  std::vector<StoredPart> parts;
  std::uint64_t raw_size = 0;       // bytes before compression and encryption
  Compression compression = Compression::kNone;
  std::string encryption_key_id;    // empty when not encrypted
};

// A Sink that stores what it is given under `key`. The stream becomes visible only on commit().
class StreamWriter : public Sink {
 public:
  // Finishes the filters, commits every part and returns what was stored.
  virtual StoredStream commit() = 0;
};

// Objects are named `key` + compression_suffix() (unless !suffix_names); when the stored bytes exceed part_size they
// become `<name>.000`, `<name>.001`, ... A StreamWriter destroyed without commit() removes
// every part it wrote.
std::unique_ptr<StreamWriter> write_stream(Storage& storage, const std::string& key,
                                           const StreamOptions& options);

// Reads a stored stream back: verifies each part's size and SHA-256 (Error kChecksumMismatch
// naming the object), authenticates and decrypts (kWrongKey when `key` is wrong or missing),
// decompresses. Nothing is staged on local disk.
std::unique_ptr<Source> read_stream(Storage& storage, const StoredStream& stream,
                                    const std::optional<EncryptionKey>& key);

}  // namespace shardsafe::storage

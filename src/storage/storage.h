// The storage contract: what backups are written to and read from.
//
// Keys are '/'-separated relative paths ("backups/<id>/rs0/db/coll.bson.zst"). Every driver
// (file://, s3://, oss://) implements Storage with the same semantics; the conformance suite
// in tests/storage checks them all. Methods may be called from several threads at once; the
// Writer and Reader objects they return are each used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/stream.h"

namespace shardsafe::storage {

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
};

struct ListPage {
  std::vector<ObjectInfo> objects;  // sorted by key
  std::string continuation;         // empty when this is the last page
};

// A write whose writer died before commit() or abort() (its process was killed, the machine
// lost power): a temporary file, an incomplete multipart upload. Nothing lists it as an
// object; remove_abandoned_uploads() reclaims its space.
struct AbandonedUpload {
  std::string key;  // the object it was writing
  std::string id;   // which upload of that key, in the driver's terms (a file name, an upload id)
  std::chrono::system_clock::time_point modified;  // its last write
};

// What a driver can do beyond the contract; the generic layer checks these, never driver types.
struct Capabilities {
  bool ranged_reads = true;      // open() honours offset/length without reading the prefix
  bool parallel_parts = false;   // a Writer uploads parts concurrently (multipart upload)
};

// An object being written. Nothing is visible under its key until commit() returns; a Writer
// destroyed without commit() aborts (removes temp files, aborts the multipart upload).
class Writer : public Sink {
 public:
  // Makes the object visible, atomically and durably. After a successful commit() the object
  // is listed and readable in full. REQUIRES: finish() was called (commit calls it if not).
  virtual void commit() = 0;
  // Discards everything written. Never throws; safe to call more than once.
  virtual void abort() noexcept = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual Capabilities capabilities() const = 0;

  // Starts writing `key`; an existing object is replaced when the new one commits.
  virtual std::unique_ptr<Writer> create(const std::string& key) = 0;

  // Opens `key` for reading from `offset`, for at most `length` bytes (to the end if absent).
  // Throws Error(kNotFound) naming the key when it does not exist.
  virtual std::unique_ptr<Source> open(const std::string& key, std::uint64_t offset = 0,
                                       std::optional<std::uint64_t> length = std::nullopt) = 0;

  // The object's size and time, or nullopt when it does not exist.
  virtual std::optional<ObjectInfo> stat(const std::string& key) = 0;

  // Objects whose key starts with `prefix`, in key order, one page at a time. Pass the
  // previous page's continuation to get the next page.
  virtual ListPage list(const std::string& prefix, const std::string& continuation = {}) = 0;

  // Removes the keys; a key that does not exist is not an error. Drivers batch as they can.
  virtual void remove(const std::vector<std::string>& keys) = 0;

  // Gives the committed object `from` the key `to` (replacing `to`), then removes `from`.
  // Not atomic across the two keys: `to` is complete before `from` disappears. Throws
  // Error(kNotFound) naming `from` when it does not exist. The default copies the bytes
  // through this process; drivers override it with a server-side rename or copy.
  virtual void rename(const std::string& from, const std::string& to);

  // Uploads nothing has written to for at least `min_age`, sorted by key. A live writer's
  // upload is among them too once it has been silent that long: the caller picks an age no
  // live writer stays silent for.
  virtual std::vector<AbandonedUpload> list_abandoned_uploads(std::chrono::seconds min_age) = 0;
  // Discards uploads list_abandoned_uploads() returned; one already gone is not an error.
  // Throws Error(kInvalidArgument) for an id that names no upload of `key`, so that nothing
  // else (a committed object) can be removed through it.
  virtual void remove_abandoned_uploads(const std::vector<AbandonedUpload>& uploads) = 0;

  // The storage URL with secrets redacted, for messages and logs.
  virtual std::string describe() const = 0;
};

// Every object under `prefix`, all pages.
std::vector<ObjectInfo> list_all(Storage& storage, const std::string& prefix);

// A small object (a manifest, a status file) read whole. Error(kNotFound) as open();
// Error(kCorruptData) naming the key when it holds more than `limit` bytes.
std::string read_object(Storage& storage, const std::string& key, std::size_t limit);
// Writes `text` as the whole object `key` and commits it (atomically, as every Writer).
void write_object(Storage& storage, const std::string& key, std::string_view text);

}  // namespace shardsafe::storage

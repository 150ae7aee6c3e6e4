// Durability for one member, under --dbpath:
//
//   snapshot.bson  a checkpoint: {snapshot:1, seq:N} then, per collection,
//                  {collection:{db, name, uuid, options, indexes:[specs]}, count:n} followed by
//                  its n documents as raw BSON, then {end:1}. Written to a temporary file,
//                  fsynced and renamed over the old one, so it is always whole.
//   journal.bson   every applied oplog entry since the checkpoint, as {s:seq, e:entry, p?:post}
//                  (p: the document after an update). sync() fdatasyncs it before a write is
//                  acknowledged, so kill -9 loses nothing acknowledged. A torn record at the
//                  end (the process died while writing it) is ignored on load.
//   Checkpoints happen when the journal has grown as large as the snapshot.
//
// Restart = load the snapshot, then re-apply journal records with seq > the snapshot's seq
// (idempotently), which also rebuilds local.oplog.rs.
//
// Thread safety: none; used under the Engine's mutex.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "server/catalog.h"

namespace sandbox {

class Journal {
 public:
  using ReplayFn = std::function<void(const Doc& entry, const Doc* post_image)>;

  explicit Journal(std::filesystem::path dir);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Loads the checkpoint into `catalog` and calls `replay` for every later journal record,
  // in order. Throws std::runtime_error when the snapshot is unreadable.
  void load(Catalog& catalog, const ReplayFn& replay);

  void append(const Doc& entry, const Doc* post_image);  // buffered until sync()
  void sync();                                           // write + fdatasync; throws on I/O error
  // A checkpoint rewrites all data, so it waits until the journal is as large as the last
  // snapshot (at least 64 MB): the cost per written byte stays constant as data grows.
  bool wants_checkpoint() const {
    return journal_bytes_ > std::max(kCheckpointBytes, snapshot_bytes_);
  }
  void checkpoint(const Catalog& catalog);

 private:
  static constexpr std::int64_t kCheckpointBytes = 64ll << 20;

  std::filesystem::path dir_;
  int journal_fd_ = -1;
  std::int64_t next_seq_ = 1;
  std::int64_t journal_bytes_ = 0;
  std::int64_t snapshot_bytes_ = 0;
  std::vector<std::uint8_t> pending_;
};

}  // namespace sandbox

// A Sink decorator that moves the downstream work (compression, encryption, hashing, storage
// writes) to a background thread, so the producer (a cursor reading from the network) and the
// consumer run at the same time. Bytes are handed over in chunks through a bounded queue:
// memory stays at most (2 x queue_depth + 2) x chunk_size whatever the stream's length.
// Written chunks come back to the producer for reuse: a fresh 1 MiB buffer costs 256 page
// faults, which on a dump cost more CPU than the copy itself.
#pragma once

#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "common/blocking_queue.h"
#include "storage/stream.h"

namespace shardsafe::storage {

class AsyncSink : public Sink {
 public:
  // `next` must outlive this sink and is only touched by the background thread until finish()
  // returns.
  explicit AsyncSink(Sink& next, std::size_t chunk_size = 1 << 20, std::size_t queue_depth = 4);
  // Stops the background thread; an unfinished stream is abandoned (the caller aborts `next`).
  ~AsyncSink() override;

  // Throws the background thread's error, if it failed, at the next write() or finish().
  void write(std::span<const std::uint8_t> bytes) override;
  // Waits until everything was written downstream, then finishes `next`.
  void finish() override;

 private:
  void hand_over();
  std::vector<std::uint8_t> empty_chunk();
  void drain();
  void rethrow_failure();

  Sink& next_;
  std::size_t chunk_size_;
  BlockingQueue<std::vector<std::uint8_t>> queue_;
  BlockingQueue<std::vector<std::uint8_t>> spare_;  // written chunks, cleared, for reuse
  std::vector<std::uint8_t> chunk_;
  std::mutex failure_mutex_;
  std::exception_ptr failure_;  // guarded by failure_mutex_
  std::jthread worker_;
};

}  // namespace shardsafe::storage

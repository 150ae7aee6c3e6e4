#include "storage/async_sink.h"

namespace shardsafe::storage {

AsyncSink::AsyncSink(Sink& next, std::size_t chunk_size, std::size_t queue_depth)
    : next_(next),
      chunk_size_(chunk_size),
      queue_(queue_depth),
      spare_(queue_depth),
      chunk_(empty_chunk()),
      worker_([this] { drain(); }) {}

AsyncSink::~AsyncSink() {
  queue_.close();
  // jthread joins; the worker stops after the queued chunks or at its first failure.
}

void AsyncSink::drain() {
  try {
    while (auto chunk = queue_.pop()) {
      next_.write(*chunk);
      chunk->clear();
      spare_.try_push(std::move(*chunk));
    }
  } catch (...) {
    std::lock_guard lock(failure_mutex_);
    failure_ = std::current_exception();
    queue_.close();  // unblocks the producer; its next write() reports the failure
  }
}

void AsyncSink::rethrow_failure() {
  std::lock_guard lock(failure_mutex_);
  if (failure_) std::rethrow_exception(failure_);
}

void AsyncSink::hand_over() {
  if (chunk_.empty()) return;
  if (!queue_.push(std::move(chunk_))) rethrow_failure();
  chunk_ = empty_chunk();
}

std::vector<std::uint8_t> AsyncSink::empty_chunk() {
  if (auto reused = spare_.try_pop()) return std::move(*reused);
  std::vector<std::uint8_t> fresh;
  fresh.reserve(chunk_size_);
  return fresh;
}

void AsyncSink::write(std::span<const std::uint8_t> bytes) {
  rethrow_failure();
  chunk_.insert(chunk_.end(), bytes.begin(), bytes.end());
  if (chunk_.size() >= chunk_size_) hand_over();
}

void AsyncSink::finish() {
  hand_over();
  queue_.close();
  worker_.join();
  rethrow_failure();
  next_.finish();
}

}  // namespace shardsafe::storage

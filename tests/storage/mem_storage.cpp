#include "storage/mem_storage.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "storage/key.h"

namespace shardsafe::storage {

class MemWriter : public Writer {
 public:
  MemWriter(MemStorage& storage, std::string key) : storage_(storage), key_(std::move(key)) {}
  void write(std::span<const std::uint8_t> bytes) override { bytes_.append(bytes.begin(), bytes.end()); }
  void finish() override {}
  void commit() override {
    if (done_) return;
    storage_.put(key_, std::move(bytes_));
    done_ = true;
  }
  void abort() noexcept override {
    done_ = true;
    bytes_.clear();
  }

 private:
  MemStorage& storage_;
  std::string key_;
  std::string bytes_;
  bool done_ = false;
};

namespace {

class MemReader : public Source {
 public:
  MemReader(std::shared_ptr<const std::string> bytes, std::size_t position, std::size_t end)
      : bytes_(std::move(bytes)), position_(position), end_(end) {}
  std::size_t read(std::span<std::uint8_t> buffer) override {
    const auto n = std::min(buffer.size(), end_ - position_);
    std::memcpy(buffer.data(), bytes_->data() + position_, n);
    position_ += n;
    return n;
  }

 private:
  std::shared_ptr<const std::string> bytes_;
  std::size_t position_;
  std::size_t end_;
};

}  // namespace

MemStorage::MemStorage(std::size_t list_page_size) : list_page_size_(std::max<std::size_t>(1, list_page_size)) {}

Capabilities MemStorage::capabilities() const { return Capabilities{.ranged_reads = true, .parallel_parts = false}; }

void MemStorage::put(const std::string& key, std::string bytes) {
  std::lock_guard lock(mutex_);
  objects_[key] = Object{std::make_shared<const std::string>(std::move(bytes)), std::chrono::system_clock::now()};
}

std::unique_ptr<Writer> MemStorage::create(const std::string& key) {
  validate_key(key);
  return std::make_unique<MemWriter>(*this, key);
}

std::unique_ptr<Source> MemStorage::open(const std::string& key, std::uint64_t offset,
                                         std::optional<std::uint64_t> length) {
  validate_key(key);
  std::lock_guard lock(mutex_);
  const auto it = objects_.find(key);
  if (it == objects_.end()) throw Error(ErrorCode::kNotFound, "object \"" + key + "\" not found");
  const auto size = it->second.bytes->size();
  const auto start = static_cast<std::size_t>(std::min<std::uint64_t>(offset, size));
  const auto end = start + static_cast<std::size_t>(std::min<std::uint64_t>(size - start, length.value_or(size)));
  return std::make_unique<MemReader>(it->second.bytes, start, end);
}

std::optional<ObjectInfo> MemStorage::stat(const std::string& key) {
  validate_key(key);
  std::lock_guard lock(mutex_);
  const auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return ObjectInfo{key, it->second.bytes->size(), it->second.modified};
}

ListPage MemStorage::list(const std::string& prefix, const std::string& continuation) {
  validate_prefix(prefix);
  std::lock_guard lock(mutex_);
  ListPage page;
  for (auto it = continuation.empty() ? objects_.lower_bound(prefix) : objects_.upper_bound(continuation);
       it != objects_.end() && it->first.starts_with(prefix); ++it) {
    if (page.objects.size() == list_page_size_) {
      page.continuation = page.objects.back().key;
      break;
    }
    page.objects.push_back(ObjectInfo{it->first, it->second.bytes->size(), it->second.modified});
  }
  return page;
}

void MemStorage::remove(const std::vector<std::string>& keys) {
  for (const auto& key : keys) validate_key(key);
  std::lock_guard lock(mutex_);
  for (const auto& key : keys) objects_.erase(key);
}

void MemStorage::rename(const std::string& from, const std::string& to) {
  validate_key(from);
  validate_key(to);
  std::lock_guard lock(mutex_);
  const auto it = objects_.find(from);
  if (it == objects_.end()) throw Error(ErrorCode::kNotFound, "object \"" + from + "\" not found");
  auto object = it->second;
  objects_.erase(it);
  objects_[to] = std::move(object);
}

std::vector<AbandonedUpload> MemStorage::list_abandoned_uploads(std::chrono::seconds) { return {}; }

void MemStorage::remove_abandoned_uploads(const std::vector<AbandonedUpload>& uploads) {
  if (!uploads.empty()) throw Error(ErrorCode::kInvalidArgument, "\"" + uploads.front().id + "\" is no upload this storage listed");
}

std::string MemStorage::describe() const { return "mem://"; }

}  // namespace shardsafe::storage

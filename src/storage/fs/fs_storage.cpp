#include "storage/fs/fs_storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <set>
#include <tuple>
#include <utility>

#include "common/error.h"
#include "storage/key.h"

namespace shardsafe::storage {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kTempMarker = ".shardsafe-tmp-";

[[noreturn]] void throw_errno(const std::string& action, const fs::path& path, int error) {
  const auto code = error == ENOENT ? ErrorCode::kNotFound : ErrorCode::kStorage;
  throw Error(code, action + " \"" + path.string() + "\" failed: " + std::strerror(error));
}

// A file descriptor that closes itself.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes and reports the error close() may carry (delayed write errors on some filesystems).
  void close_checked(const fs::path& path) {
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) throw_errno("closing", path, errno);
  }

 private:
  int fd_;
};

void fsync_or_throw(int fd, const fs::path& path) {
  if (::fsync(fd) != 0) throw_errno("fsync of", path, errno);
}

// `may_be_gone`: the directory was left empty, so a removal may have pruned it meanwhile,
// which makes the entry it lost durable as well.
void fsync_directory(const fs::path& directory, bool may_be_gone = false) {
  Fd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 && may_be_gone && errno == ENOENT) return;
  if (fd.get() < 0) throw_errno("opening directory", directory, errno);
  fsync_or_throw(fd.get(), directory);
}

// How often a write or rename creates its directories again after a concurrent removal pruned
// them before its file was in place. Each attempt costs microseconds; a busy machine that
// deschedules the writer between mkdir and open can make it lose several in a row.
constexpr int kCreateAttempts = 100;

std::string random_suffix() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string suffix(12, 'x');
  for (auto& c : suffix) c = kAlphabet[generator() % (sizeof(kAlphabet) - 1)];
  return suffix;
}

// The name of every temporary file of `target` up to its random suffix.
std::string temp_name_prefix(const fs::path& target) { return "." + target.filename().string() + std::string(kTempMarker); }

bool is_temp_name(const fs::path& path) {
  return path.filename().string().find(kTempMarker) != std::string::npos;
}

// Whether the file `name` is one of `target`'s temporary files.
bool is_temp_file_of(const std::string& name, const fs::path& target) {
  const auto prefix = temp_name_prefix(target);
  return name.starts_with(prefix) && name.size() > prefix.size() && name.find('/') == std::string::npos;
}

// The key the temporary file `file` (".<name>.shardsafe-tmp-<rand>", relative to the root)
// was written for; nullopt for a file that only looks like one (no FsWriter names a key ".").
std::optional<std::string> target_key(const fs::path& file) {
  const auto name = file.filename().string();
  const auto marker = name.rfind(kTempMarker);
  if (marker == std::string::npos || marker < 2 || name[0] != '.') return std::nullopt;
  const auto target = name.substr(1, marker - 1);
  if (target == "." || target == "..") return std::nullopt;
  return (file.parent_path() / target).generic_string();
}

std::chrono::system_clock::time_point modified_time(const struct stat& st) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

// Writes to a temporary file; commit() makes it the object, the destructor cleans up.
class FsWriter : public Writer {
 public:
  FsWriter(fs::path target) : target_(std::move(target)) {
    temp_ = target_.parent_path() / (temp_name_prefix(target_) + random_suffix());
    // A removal in another thread or process may prune the directories just created (see
    // FsStorage::remove) before the temporary file is in them: then create them again.
    for (int attempt = 1;; ++attempt) {
      create_parent_directories();
      fd_ = Fd(::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      if (fd_.get() >= 0) break;
      if (errno != ENOENT || attempt == kCreateAttempts) throw_errno("creating", temp_, errno);
    }
    buffer_.reserve(kBufferSize);
  }
  ~FsWriter() override { abort(); }

  void write(std::span<const std::uint8_t> bytes) override {
    if (finished_) throw Error(ErrorCode::kInternal, "write after finish on \"" + target_.string() + "\"");
    if (buffer_.size() + bytes.size() > kBufferSize) flush();
    if (bytes.size() >= kBufferSize) {
      write_fully(bytes);
    } else {
      buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    }
  }

  void finish() override {
    if (finished_) return;
    flush();
    fsync_or_throw(fd_.get(), temp_);
    fd_.close_checked(temp_);
    finished_ = true;
  }

  void commit() override {
    finish();
    if (::rename(temp_.c_str(), target_.c_str()) != 0) throw_errno("renaming into", target_, errno);
    committed_ = true;
    for (auto directory = target_.parent_path();; directory = directory.parent_path()) {
      fsync_directory(directory);
      if (directory == existing_ancestor_ || !directory.has_parent_path() || directory == directory.parent_path()) break;
    }
  }

  void abort() noexcept override {
    if (committed_ || temp_.empty()) return;
    fd_.reset();
    ::unlink(temp_.c_str());
    temp_.clear();
  }

 private:
  static constexpr std::size_t kBufferSize = 1 << 20;
  static constexpr std::uint64_t kWritebackStep = 8 << 20;

  void flush() {
    write_fully(buffer_);
    buffer_.clear();
  }

  void write_fully(std::span<const std::uint8_t> bytes) {
    while (!bytes.empty()) {
      const auto written = ::write(fd_.get(), bytes.data(), bytes.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        throw_errno("writing", temp_, errno);
      }
      bytes = bytes.subspan(static_cast<std::size_t>(written));
      size_ += static_cast<std::uint64_t>(written);
    }
    start_writeback();
  }

  // Starts the disk writes of every full kWritebackStep written so far without waiting for
  // them, so commit()'s fsync finds little left to do: a large object no longer ends with a
  // pause as long as the disk takes to write all of it, and dirty pages do not pile up.
  void start_writeback() {
    while (size_ - written_back_ >= kWritebackStep) {
      ::sync_file_range(fd_.get(), static_cast<off_t>(written_back_), kWritebackStep, SYNC_FILE_RANGE_WRITE);
      written_back_ += kWritebackStep;
    }
  }

  // Directories this writer creates must reach the disk too, so it remembers the deepest one
  // that already exists: commit() fsyncs every directory from the target's up to it.
  void create_parent_directories() {
    existing_ancestor_ = target_.parent_path();
    while (!fs::exists(existing_ancestor_) && existing_ancestor_.has_parent_path() &&
           existing_ancestor_ != existing_ancestor_.parent_path()) {
      existing_ancestor_ = existing_ancestor_.parent_path();
    }
    std::error_code ignored;
    fs::create_directories(target_.parent_path(), ignored);
  }

  fs::path target_;
  fs::path existing_ancestor_;
  fs::path temp_;
  Fd fd_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t size_ = 0;          // bytes written to the file
  std::uint64_t written_back_ = 0;  // bytes whose writeback start_writeback() started
  bool finished_ = false;
  bool committed_ = false;
};

// Reads [offset, offset + remaining) of an open file with pread.
class FsReader : public Source {
 public:
  FsReader(Fd fd, std::uint64_t offset, std::uint64_t remaining, fs::path path)
      : fd_(std::move(fd)), offset_(offset), remaining_(remaining), path_(std::move(path)) {}

  std::size_t read(std::span<std::uint8_t> buffer) override {
    const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), remaining_));
    if (wanted == 0) return 0;
    for (;;) {
      const auto got = ::pread(fd_.get(), buffer.data(), wanted, static_cast<off_t>(offset_));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw_errno("reading", path_, errno);
      offset_ += static_cast<std::uint64_t>(got);
      remaining_ = got == 0 ? 0 : remaining_ - static_cast<std::uint64_t>(got);
      return static_cast<std::size_t>(got);
    }
  }

 private:
  Fd fd_;
  std::uint64_t offset_;
  std::uint64_t remaining_;
  fs::path path_;
};

}  // namespace

FsStorage::FsStorage(fs::path root, std::size_t list_page_size)
    : root_(std::move(root)), list_page_size_(std::max<std::size_t>(1, list_page_size)) {
  std::error_code error;
  fs::create_directories(root_, error);
  if (error || !fs::is_directory(root_)) {
    throw Error(ErrorCode::kStorage, "storage directory \"" + root_.string() + "\" is not usable: " +
                                         (error ? error.message() : "not a directory"));
  }
}

Capabilities FsStorage::capabilities() const { return Capabilities{.ranged_reads = true, .parallel_parts = false}; }

fs::path FsStorage::path_of(const std::string& key) const {
  validate_key(key);
  return root_ / key;
}

std::unique_ptr<Writer> FsStorage::create(const std::string& key) {
  return std::make_unique<FsWriter>(path_of(key));
}

std::unique_ptr<Source> FsStorage::open(const std::string& key, std::uint64_t offset,
                                        std::optional<std::uint64_t> length) {
  const auto path = path_of(key);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw Error(ErrorCode::kNotFound, "object \"" + key + "\" not found");
    throw_errno("opening", path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("stat of", path, errno);
  if (!S_ISREG(st.st_mode)) throw Error(ErrorCode::kNotFound, "object \"" + key + "\" not found");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const auto start = std::min(offset, size);
  const auto remaining = std::min(size - start, length.value_or(size - start));
  return std::make_unique<FsReader>(std::move(fd), start, remaining, path);
}

std::optional<ObjectInfo> FsStorage::stat(const std::string& key) {
  const auto path = path_of(key);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw_errno("stat of", path, errno);
  }
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  return ObjectInfo{key, static_cast<std::uint64_t>(st.st_size), modified_time(st)};
}

// Walks only the directory the prefix names (its part up to the last '/'), so listing one
// backup does not read the whole tree. Every page re-walks and skips keys up to the
// continuation (the last key of the previous page): stateless, and correct under changes.
ListPage FsStorage::list(const std::string& prefix, const std::string& continuation) {
  validate_prefix(prefix);
  const auto slash = prefix.rfind('/');
  const fs::path start = slash == std::string::npos ? root_ : root_ / prefix.substr(0, slash);
  std::vector<ObjectInfo> matches;
  std::error_code error;
  if (!fs::is_directory(start, error)) return {};
  for (fs::recursive_directory_iterator it(start, error), end; !error && it != end; it.increment(error)) {
    if (!it->is_regular_file(error) || is_temp_name(it->path())) continue;
    auto key = it->path().lexically_relative(root_).generic_string();
    if (key.compare(0, prefix.size(), prefix) != 0 || key <= continuation) continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0) continue;  // removed while listing
    matches.push_back(ObjectInfo{std::move(key), static_cast<std::uint64_t>(st.st_size), modified_time(st)});
  }
  if (error) throw Error(ErrorCode::kStorage, "listing \"" + start.string() + "\" failed: " + error.message());
  std::sort(matches.begin(), matches.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  ListPage page;
  if (matches.size() > list_page_size_) {
    matches.resize(list_page_size_);
    page.continuation = matches.back().key;
  }
  page.objects = std::move(matches);
  return page;
}

void FsStorage::remove(const std::vector<std::string>& keys) {
  std::set<fs::path, std::greater<>> parents;  // deepest first
  for (const auto& key : keys) {
    const auto path = path_of(key);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) throw_errno("removing", path, errno);
    parents.insert(path.parent_path());
  }
  for (const auto& parent : parents) prune_empty_directories(parent);
}

void FsStorage::prune_empty_directories(fs::path directory) const {
  for (; is_below_root(directory); directory = directory.parent_path()) {
    if (::rmdir(directory.c_str()) != 0) return;  // not empty, or already gone
  }
}

void FsStorage::rename(const std::string& from, const std::string& to) {
  const auto source = path_of(from);
  const auto target = path_of(to);
  for (int attempt = 1;; ++attempt) {
    std::error_code ignored;
    fs::create_directories(target.parent_path(), ignored);
    if (::rename(source.c_str(), target.c_str()) == 0) break;
    if (errno == ENOENT && fs::exists(source) && attempt < kCreateAttempts) continue;  // a removal pruned the target's directory
    if (errno == ENOENT) throw Error(ErrorCode::kNotFound, "object \"" + from + "\" not found");
    throw_errno("renaming into", target, errno);
  }
  fsync_directory(target.parent_path());
  if (source.parent_path() != target.parent_path()) {
    fsync_directory(source.parent_path(), true);
    prune_empty_directories(source.parent_path());
  }
}

// Whether a temporary file's writer is dead or alive, only the time since its last write can
// tell (the writer may be another process, on another host sharing the directory): the
// caller's age decides.
std::vector<AbandonedUpload> FsStorage::list_abandoned_uploads(std::chrono::seconds min_age) {
  const auto cutoff = std::chrono::system_clock::now() - min_age;
  std::vector<AbandonedUpload> out;
  std::error_code error;
  for (fs::recursive_directory_iterator it(root_, error), end; !error && it != end; it.increment(error)) {
    std::error_code gone;  // committed or removed meanwhile: not an error of the walk
    if (!it->is_regular_file(gone) || !is_temp_name(it->path())) continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0) continue;  // committed or removed meanwhile
    const auto modified = modified_time(st);
    if (modified > cutoff) continue;
    const auto key = target_key(it->path().lexically_relative(root_));
    if (key) out.push_back(AbandonedUpload{*key, it->path().filename().string(), modified});
  }
  if (error) throw Error(ErrorCode::kStorage, "listing \"" + root_.string() + "\" failed: " + error.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return std::tie(a.key, a.id) < std::tie(b.key, b.id); });
  return out;
}

void FsStorage::remove_abandoned_uploads(const std::vector<AbandonedUpload>& uploads) {
  std::set<fs::path, std::greater<>> parents;  // deepest first
  for (const auto& upload : uploads) {
    const auto target = path_of(upload.key);
    if (!is_temp_file_of(upload.id, target)) {
      throw Error(ErrorCode::kInvalidArgument, "\"" + upload.id + "\" is no temporary file of \"" + upload.key + "\"");
    }
    const auto temp = target.parent_path() / upload.id;
    if (::unlink(temp.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) throw_errno("removing", temp, errno);
    parents.insert(target.parent_path());
  }
  for (const auto& parent : parents) prune_empty_directories(parent);
}

bool FsStorage::is_below_root(const fs::path& path) const {
  return path.native().size() > root_.native().size() && path.native().starts_with(root_.native());
}

std::string FsStorage::describe() const { return "file://" + root_.string(); }

}  // namespace shardsafe::storage

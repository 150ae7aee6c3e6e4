#include "server/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "server/bson_util.h"

namespace sandbox {
namespace {

std::runtime_error io_error(const std::string& what, const std::filesystem::path& path) {
  return std::runtime_error(what + " '" + path.string() + "': " + std::strerror(errno));
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Iterates whole BSON documents in `bytes`; stops at the first torn or invalid one.
class DocReader {
 public:
  explicit DocReader(const std::vector<std::uint8_t>& bytes) : bytes_(bytes) {}
  bool next(bson_t* view) {
    if (bytes_.size() - offset_ < 5) return false;
    std::int32_t length;
    std::memcpy(&length, bytes_.data() + offset_, 4);
    if (length < 5 || static_cast<std::size_t>(length) > bytes_.size() - offset_) return false;
    if (!bson_init_static(view, bytes_.data() + offset_, static_cast<std::size_t>(length)) ||
        !bson_validate(view, BSON_VALIDATE_NONE, nullptr)) {
      return false;
    }
    offset_ += static_cast<std::size_t>(length);
    return true;
  }
  std::size_t offset() const { return offset_; }

 private:
  const std::vector<std::uint8_t>& bytes_;
  std::size_t offset_ = 0;
};

void write_doc(std::ofstream& out, const bson_t* doc) {
  out.write(reinterpret_cast<const char*>(bson_get_data(doc)), doc->len);
}

void fsync_path(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) throw io_error("cannot open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw io_error("cannot fsync", path);
}

void load_collection(Catalog& catalog, const bson_t* header, DocReader& reader) {
  auto meta = get_document(header, "collection");
  if (!meta) throw std::runtime_error("snapshot collection header without metadata");
  const bson_t* m = meta->bson();
  Collection& coll =
      catalog.create(get_string(m, "db").value_or(""), get_string(m, "name").value_or(""),
                     get_uuid(m, "uuid").value_or(new_uuid()),
                     get_document(m, "options").value_or(Doc::empty()));
  if (auto indexes = get_document(m, "indexes")) {
    bson_iter_t iter;
    bson_iter_init(&iter, indexes->bson());
    while (bson_iter_next(&iter)) {
      Doc spec = iter_document(&iter);
      coll.create_index(spec.bson());
    }
  }
  std::int64_t count = get_number(header, "count").value_or(0);
  bson_t doc;
  for (std::int64_t i = 0; i < count; ++i) {
    if (!reader.next(&doc)) throw std::runtime_error("snapshot is truncated");
    coll.insert(Doc::copy_of(&doc));
  }
}

}  // namespace

Journal::Journal(std::filesystem::path dir) : dir_(std::move(dir)) {}

Journal::~Journal() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
}

void Journal::load(Catalog& catalog, const ReplayFn& replay) {
  std::int64_t snapshot_seq = 0;
  std::vector<std::uint8_t> snapshot = read_file(dir_ / "snapshot.bson");
  snapshot_bytes_ = static_cast<std::int64_t>(snapshot.size());
  if (!snapshot.empty()) {
    DocReader reader(snapshot);
    bson_t doc;
    bool ended = false;
    while (!ended && reader.next(&doc)) {
      if (find_field(&doc, "snapshot")) {
        snapshot_seq = get_number(&doc, "seq").value_or(0);
      } else if (find_field(&doc, "collection")) {
        load_collection(catalog, &doc, reader);
      } else if (find_field(&doc, "end")) {
        ended = true;
      }
    }
    if (!ended) throw std::runtime_error("snapshot.bson is incomplete");
  }
  next_seq_ = snapshot_seq + 1;

  std::filesystem::path journal_path = dir_ / "journal.bson";
  std::vector<std::uint8_t> journal = read_file(journal_path);
  DocReader reader(journal);
  bson_t record;
  while (reader.next(&record)) {
    std::int64_t seq = get_number(&record, "s").value_or(0);
    if (seq < next_seq_) continue;  // already in the snapshot
    next_seq_ = seq + 1;
    auto entry = get_document(&record, "e");
    auto post = get_document(&record, "p");
    if (entry) replay(*entry, post ? &*post : nullptr);
  }
  journal_fd_ = ::open(journal_path.c_str(), O_WRONLY | O_CREAT, 0644);
  if (journal_fd_ < 0) throw io_error("cannot open journal", journal_path);
  // Cut a torn tail so new records follow the last whole one.
  if (::ftruncate(journal_fd_, static_cast<off_t>(reader.offset())) != 0 ||
      ::lseek(journal_fd_, 0, SEEK_END) < 0) {
    throw io_error("cannot truncate journal", journal_path);
  }
  journal_bytes_ = static_cast<std::int64_t>(reader.offset());
}

void Journal::append(const Doc& entry, const Doc* post_image) {
  Builder record;
  BSON_APPEND_INT64(record.get(), "s", next_seq_++);
  append_doc(record.get(), "e", entry.bson());
  if (post_image != nullptr) append_doc(record.get(), "p", post_image->bson());
  const std::uint8_t* data = bson_get_data(record.get());
  pending_.insert(pending_.end(), data, data + record.get()->len);
}

void Journal::sync() {
  if (pending_.empty()) return;
  std::size_t done = 0;
  while (done < pending_.size()) {
    ssize_t n = ::write(journal_fd_, pending_.data() + done, pending_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error("cannot write journal", dir_ / "journal.bson");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(journal_fd_) != 0) throw io_error("cannot fsync journal", dir_ / "journal.bson");
  journal_bytes_ += static_cast<std::int64_t>(pending_.size());
  pending_.clear();
}

void Journal::checkpoint(const Catalog& catalog) {
  sync();
  std::filesystem::path temp = dir_ / "snapshot.bson.tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw io_error("cannot create", temp);
    Builder header;
    BSON_APPEND_INT32(header.get(), "snapshot", 1);
    BSON_APPEND_INT64(header.get(), "seq", next_seq_ - 1);
    write_doc(out, header.get());
    for (const std::string& db : catalog.database_names()) {
      for (const Collection* coll : catalog.collections(db)) {
        Builder meta_header;
        bson_t meta;
        BSON_APPEND_DOCUMENT_BEGIN(meta_header.get(), "collection", &meta);
        BSON_APPEND_UTF8(&meta, "db", coll->db().c_str());
        BSON_APPEND_UTF8(&meta, "name", coll->name().c_str());
        append_uuid(&meta, "uuid", coll->uuid());
        append_doc(&meta, "options", coll->options().bson());
        bson_t indexes;
        BSON_APPEND_ARRAY_BEGIN(&meta, "indexes", &indexes);
        int i = 0;
        for (const Index& index : coll->indexes()) {
          if (index.name == "_id_") continue;  // recreated by the Collection itself
          append_doc(&indexes, std::to_string(i++), index.spec.bson());
        }
        bson_append_array_end(&meta, &indexes);
        bson_append_document_end(meta_header.get(), &meta);
        BSON_APPEND_INT64(meta_header.get(), "count", static_cast<std::int64_t>(coll->count()));
        write_doc(out, meta_header.get());
        for (const auto& [record_id, record] : coll->records()) write_doc(out, record->bson());
      }
    }
    Builder end;
    BSON_APPEND_INT32(end.get(), "end", 1);
    write_doc(out, end.get());
    out.flush();
    if (!out) throw io_error("cannot write", temp);
    snapshot_bytes_ = static_cast<std::int64_t>(out.tellp());
  }
  fsync_path(temp, O_RDONLY);
  std::filesystem::rename(temp, dir_ / "snapshot.bson");
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);
  // Records up to the snapshot's seq are now redundant; a crash before this truncation is
  // harmless because load() skips them by seq.
  if (::ftruncate(journal_fd_, 0) != 0 || ::lseek(journal_fd_, 0, SEEK_SET) < 0 ||
      ::fdatasync(journal_fd_) != 0) {
    throw io_error("cannot truncate journal", dir_ / "journal.bson");
  }
  journal_bytes_ = 0;
}

}  // namespace sandbox

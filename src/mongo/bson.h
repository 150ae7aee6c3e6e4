// RAII and convenience over libbson: the one BSON document type of shardsafe.
//
// Bson owns a bson_t. BsonBuilder appends fields fluently. BsonView reads fields of a document it
// does not own. Every layer uses these instead of raw libbson calls, so ownership is never in doubt.
#pragma once

#include <bson/bson.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shardsafe::mongo {

// A BSON timestamp: the oplog's optime (seconds since the epoch, increment within the second).
struct Timestamp {
  std::uint32_t seconds = 0;
  std::uint32_t increment = 0;
  auto operator<=>(const Timestamp&) const = default;
  bool is_null() const { return seconds == 0 && increment == 0; }
  std::string to_string() const;  // "1732573800.5": the form shown to users and in file names
  static Timestamp parse(std::string_view text);  // inverse of to_string(); throws kInvalidArgument
};

class Bson {
 public:
  Bson();  // an empty document {}
  ~Bson();
  Bson(const Bson& other);
  Bson& operator=(const Bson& other);
  Bson(Bson&& other) noexcept;
  Bson& operator=(Bson&& other) noexcept;

  static Bson copy_of(const bson_t* document);
  // Validates the bytes as one BSON document; throws Error(kCorruptData) otherwise.
  static Bson from_bytes(std::span<const std::uint8_t> bytes);
  // Relaxed or canonical Extended JSON; throws Error(kInvalidArgument) with the parser's reason.
  static Bson from_json(std::string_view json);
  // Takes ownership of a bson_t that libbson/libmongoc initialised into our storage.
  static Bson adopt(bson_t* initialised);

  const bson_t* get() const { return &doc_; }
  bson_t* get() { return &doc_; }
  std::span<const std::uint8_t> bytes() const { return {bson_get_data(&doc_), doc_.len}; }
  bool empty() const { return bson_empty(&doc_); }

  std::string canonical_json() const;  // Extended JSON v2, canonical mode
  std::string relaxed_json() const;    // Extended JSON v2, relaxed mode

 private:
  bson_t doc_;
};

// Reads fields of a document owned elsewhere. Keys may be dotted paths ("cursor.id").
// Getters return nullopt when the field is missing or of another type.
class BsonView {
 public:
  explicit BsonView(const bson_t* document) : doc_(document) {}
  BsonView(const Bson& document) : doc_(document.get()) {}  // NOLINT: views are cheap to make

  bool has(std::string_view path) const;
  std::optional<std::string> string(std::string_view path) const;
  // int32, int64 and integral doubles, widened.
  std::optional<std::int64_t> integer(std::string_view path) const;
  std::optional<double> number(std::string_view path) const;
  std::optional<bool> boolean(std::string_view path) const;
  std::optional<Timestamp> timestamp(std::string_view path) const;
  std::optional<Bson> document(std::string_view path) const;  // an embedded document or array
  std::vector<Bson> documents(std::string_view path) const;   // the documents of an array field
  std::vector<std::string> strings(std::string_view path) const;
  // A UUID (binary subtype 4) as 32 lowercase hex digits.
  std::optional<std::string> uuid(std::string_view path) const;
  // The raw iterator positioned on `path`, for other types. Returns false when missing.
  bool find(std::string_view path, bson_iter_t* out) const;

 private:
  const bson_t* doc_;
};

// Appends fields in order: BsonBuilder().append("find", "c").append("limit", 1).build().
class BsonBuilder {
 public:
  BsonBuilder& append(std::string_view key, std::string_view value);
  BsonBuilder& append(std::string_view key, const char* value) { return append(key, std::string_view(value)); }
  BsonBuilder& append(std::string_view key, const std::string& value) { return append(key, std::string_view(value)); }
  BsonBuilder& append(std::string_view key, std::int32_t value);
  BsonBuilder& append(std::string_view key, std::int64_t value);
  BsonBuilder& append(std::string_view key, double value);
  BsonBuilder& append(std::string_view key, bool value);
  BsonBuilder& append(std::string_view key, Timestamp value);
  BsonBuilder& append(std::string_view key, const Bson& document);
  BsonBuilder& append_array(std::string_view key, const std::vector<Bson>& documents);
  // `elements` is an array already: keys "0", "1", ... in order.
  BsonBuilder& append_array_document(std::string_view key, const Bson& elements);
  BsonBuilder& append_array(std::string_view key, const std::vector<std::string>& strings);
  BsonBuilder& append_iter(std::string_view key, const bson_iter_t* value);
  BsonBuilder& append_null(std::string_view key);
  // Every field of `document`, in order (nothing for an empty one).
  BsonBuilder& append_fields_of(const Bson& document);
  BsonBuilder& append_date(std::string_view key, std::int64_t milliseconds_since_epoch);
  // A UUID (binary subtype 4) from 32 hex digits. Throws Error(kInvalidArgument) otherwise.
  BsonBuilder& append_uuid(std::string_view key, std::string_view hex);
  Bson build() { return std::move(doc_); }

 private:
  Bson doc_;
};

}  // namespace shardsafe::mongo

// Small helpers over libbson used by every part of the server: an owning builder, typed field
// readers for command documents (MongoDB accepts any numeric type where a number is expected),
// and the reply shapes every command shares.
#pragma once

#include <bson/bson.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "query/document.h"

namespace sandbox {

// An owned, growable bson_t. Not movable: libbson builders must stay where they were made.
class Builder {
 public:
  Builder() { bson_init(&bson_); }
  ~Builder() { bson_destroy(&bson_); }
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  bson_t* get() { return &bson_; }
  const bson_t* get() const { return &bson_; }
  Doc doc() const { return Doc::copy_of(&bson_); }

 private:
  bson_t bson_;
};

using Uuid = std::array<std::uint8_t, 16>;
Uuid new_uuid();  // random version 4

// Field readers. `key` is a top-level field name. Absent fields give nullopt; a field of the
// wrong type throws CommandError 14 TypeMismatch naming the field.
std::optional<bson_iter_t> find_field(const bson_t* doc, std::string_view key);
std::optional<std::string> get_string(const bson_t* doc, std::string_view key);
std::optional<std::int64_t> get_number(const bson_t* doc, std::string_view key);
bool get_bool(const bson_t* doc, std::string_view key, bool fallback);  // any type, truthiness
std::optional<Doc> get_document(const bson_t* doc, std::string_view key);  // doc or array
std::optional<Uuid> get_uuid(const bson_t* doc, std::string_view key);

// Value of `iter` as a number, if it is numeric (int32, int64, double, decimal not included).
std::optional<std::int64_t> iter_number(const bson_iter_t* iter);
bool iter_truthy(const bson_iter_t* iter);
Doc iter_document(const bson_iter_t* iter);  // REQUIRES: iter is a document or an array

// A document {key: <value at iter>}.
Doc single_value(std::string_view key, const bson_iter_t* iter);

// The first key of a command document (the command name), or "" for an empty document.
std::string first_key(const bson_t* doc);

// Appending helpers.
void append_doc(bson_t* out, std::string_view key, const bson_t* value);
void append_array(bson_t* out, std::string_view key, const bson_t* value);
void append_uuid(bson_t* out, std::string_view key, const Uuid& uuid);
void append_iter(bson_t* out, std::string_view key, const bson_iter_t* value);
std::string json(const bson_t* doc);  // relaxed extended JSON for messages and logs

// {ok:0, errmsg, code, codeName}
Doc error_reply(int code, std::string_view code_name, std::string_view message);
Doc error_reply(const CommandError& error);

// Errors the server raises everywhere.
[[noreturn]] void throw_error(int code, std::string_view code_name, const std::string& message);
// 14 TypeMismatch as MongoDB's command parser words it: "BSON field '<command>.<field>' is
// the wrong type '<type>', expected type '<expected>'".
[[noreturn]] void throw_wrong_type(const std::string& command, const std::string& field, const bson_iter_t* value,
                                   const char* expected);

// A BSON timestamp (secs, inc) ordered as MongoDB orders optimes within one term.
struct Timestamp {
  std::uint32_t secs = 0;
  std::uint32_t inc = 0;
  auto operator<=>(const Timestamp&) const = default;
  bool is_null() const { return secs == 0 && inc == 0; }
};
// "Timestamp(1700000000, 3)", as the shell and server messages write it.
std::string timestamp_text(Timestamp ts);

// An optime {ts, t}: compared by term first, as elections and majority commit do.
struct OpTime {
  std::int64_t term = -1;  // first: optimes order by term, then by timestamp
  Timestamp ts;
  auto operator<=>(const OpTime&) const = default;
};

void append_optime(bson_t* out, std::string_view key, const OpTime& optime);
std::optional<OpTime> get_optime(const bson_t* doc, std::string_view key);
std::int64_t now_millis();

}  // namespace sandbox

// An owned BSON document kept as its exact bytes, so whatever a client inserts comes back
// byte-identical (field order, -0.0, NaN payloads, every type).
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace sandbox {

class Doc {
 public:
  Doc() = default;
  static Doc copy_of(const bson_t* bson);
  static Doc from_bytes(const std::uint8_t* data, std::size_t size);  // REQUIRES: valid BSON
  static Doc empty();                                                   // {}

  // A read-only bson_t over the bytes; valid while this Doc lives and is not modified.
  const bson_t* bson() const;
  const std::uint8_t* data() const { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  bool operator==(const Doc& other) const { return bytes_ == other.bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
  mutable bson_t view_{};
};

// A MongoDB command error, answered as {ok:0, errmsg, code, codeName}.
class CommandError : public std::runtime_error {
 public:
  CommandError(int code, std::string code_name, const std::string& message)
      : std::runtime_error(message), code_(code), code_name_(std::move(code_name)) {}
  int code() const noexcept { return code_; }
  const std::string& code_name() const noexcept { return code_name_; }
  // Appends the fields some errors carry beside code and errmsg (keyPattern, errInfo...), both
  // in a command's error reply and in a writeErrors entry.
  virtual void append_details(bson_t* /*out*/) const {}

 private:
  int code_;
  std::string code_name_;
};

// A document an error carries (keyValue, errInfo...). Not a Doc: a Doc's bson_t asks for
// 128-byte alignment, and the runtime allocates exception objects 16-byte aligned, so a thrown
// Doc would be misaligned (clang refuses such a throw; UBSan reports the access).
class ErrorDocument {
 public:
  explicit ErrorDocument(const Doc& doc) : bytes_(doc.data(), doc.data() + doc.size()) {}
  Doc doc() const { return Doc::from_bytes(bytes_.data(), bytes_.size()); }

 private:
  std::vector<std::uint8_t> bytes_;
};

// Shorthands for the errors the query layer raises.
[[noreturn]] void throw_bad_value(const std::string& message);         // 2 BadValue
[[noreturn]] void throw_failed_to_parse(const std::string& message);   // 9 FailedToParse

}  // namespace sandbox

// Small shared helpers for the query engine: an owning bson_t, an owned single BSON value,
// type names and numeric access. Internal to sandbox/query.
#pragma once

#include <bson/bson.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/document.h"

namespace sandbox {

// A bson_t built on the stack with bson_init, destroyed at scope end.
class ScopedBson {
 public:
  ScopedBson() { bson_init(&b_); }
  ~ScopedBson() { bson_destroy(&b_); }
  ScopedBson(const ScopedBson&) = delete;
  ScopedBson& operator=(const ScopedBson&) = delete;
  bson_t* get() { return &b_; }
  Doc to_doc() const { return Doc::copy_of(&b_); }

 private:
  bson_t b_;
};

// One BSON value kept as the document {"": value}, so its bytes are exact and an iterator
// over it is cheap to make.
class Value {
 public:
  Value() = default;
  static Value of(const bson_iter_t* it);
  static Value null();
  static Value int32(std::int32_t v);
  static Value int64(std::int64_t v);
  static Value dbl(double v);
  static Value boolean(bool v);
  // A decimal128 from a long double (about 18 significant digits, not decimal128's 34).
  static Value decimal(long double v);
  static Value from_doc(const Doc& doc);  // a document value
  bool empty() const { return holder_.size() == 0; }
  bson_iter_t iter() const;  // REQUIRES: !empty()
  bson_type_t type() const;
  const Doc& holder() const { return holder_; }
  bool same_bytes(const Value& other) const { return holder_ == other.holder_; }

 private:
  explicit Value(Doc holder) : holder_(std::move(holder)) {}
  Doc holder_;
};

// A read-only bson_t over a document or array value the iterator points at.
// REQUIRES: BSON_ITER_HOLDS_DOCUMENT or BSON_ITER_HOLDS_ARRAY.
bool init_static_from_iter(const bson_iter_t* it, bson_t* out);

// Finds `key` among the direct children of a document; false when absent.
bool find_field(const bson_t* doc, std::string_view key, bson_iter_t* out);

bool is_number(bson_type_t t);
// MongoDB's canonical rank of a type: values of one rank compare by value (all numbers share
// one rank, string and symbol share one). Defined in compare.cpp.
int canonical_type_rank(bson_type_t t);
// The value of a number as long double (decimal128 goes through its string form).
long double number_value(const bson_iter_t* it);
// true when the iterator holds a number equal to an integer (for $size, $mod, limits).
std::optional<std::int64_t> integral_value(const bson_iter_t* it);
bool is_truthy_flag(const bson_iter_t* it);  // projection-style 1/true (non-zero, true)

// MongoDB's name for a BSON type ("double", "string", "object", "int", "long", ...).
std::string type_name(bson_type_t t);
// The $type alias/number for a type name, or nullopt when unknown ("number" excluded).
std::optional<bson_type_t> type_from_name(std::string_view name);

// A value as MongoDB writes it in error messages (BSONElement::toString): 1, 1.5, "x",
// {a: 1}, [1, 2], ObjectId('...'), new Date(ms), Timestamp(t, i), /re/flags, null...
std::string value_to_string(const bson_iter_t* it);
// "key: value" in the same notation, as MongoDB quotes an element in messages.
std::string element_to_string(std::string_view key, const bson_iter_t* it);

// Splits "a.b.c" into its parts (empty parts kept, so callers can reject them).
std::vector<std::string> split_path(std::string_view path);
bool is_array_index(std::string_view part);  // all digits, no leading '+'/'-'
std::string join_path(const std::vector<std::string>& parts, std::size_t count);

// std::stable_sort for vectors whose elements hold a bson_t or bson_iter_t: libbson declares
// those 128-byte aligned, and libstdc++'s stable_sort scratch buffer ignores over-alignment.
// Sorts positions instead, then moves the elements into place.
template <typename T, typename Less>
void stable_sort_aligned(std::vector<T>& items, Less less) {
  std::vector<std::size_t> order(items.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return less(items[a], items[b]); });
  std::vector<T> sorted;
  sorted.reserve(items.size());
  for (std::size_t i : order) sorted.push_back(std::move(items[i]));
  items = std::move(sorted);
}

}  // namespace sandbox

// Helpers shared by the query engine's unit tests: BSON from relaxed extended JSON and back.
#pragma once

#include <bson/bson.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "query/document.h"
#include "query/query.h"

namespace sandbox::testing {

// Copies `in` to `out`, turning keys "$$x" into "$x". libbson's JSON reader takes
// {"$type": ...} and {"$regex": ..., "$options": ...} for legacy extended JSON, so tests write
// those query operators as "$$type", "$$regex", "$$options".
inline void unescape_keys(const bson_t* in, bson_t* out) {
  bson_iter_t it;
  bson_iter_init(&it, in);
  while (bson_iter_next(&it)) {
    std::string key = bson_iter_key(&it);
    if (key.rfind("$$", 0) == 0) key.erase(0, 1);
    if (BSON_ITER_HOLDS_DOCUMENT(&it) || BSON_ITER_HOLDS_ARRAY(&it)) {
      const std::uint8_t* data = nullptr;
      std::uint32_t len = 0;
      if (BSON_ITER_HOLDS_DOCUMENT(&it))
        bson_iter_document(&it, &len, &data);
      else
        bson_iter_array(&it, &len, &data);
      bson_t child_in, child_out;
      bson_init_static(&child_in, data, len);
      if (BSON_ITER_HOLDS_DOCUMENT(&it))
        bson_append_document_begin(out, key.c_str(), -1, &child_out);
      else
        bson_append_array_begin(out, key.c_str(), -1, &child_out);
      unescape_keys(&child_in, &child_out);
      if (BSON_ITER_HOLDS_DOCUMENT(&it))
        bson_append_document_end(out, &child_out);
      else
        bson_append_array_end(out, &child_out);
    } else {
      bson_append_iter(out, key.c_str(), -1, &it);
    }
  }
}

// A document from relaxed extended JSON ({"a": 1, "d": {"$date": "..."}}); throws on bad JSON.
inline Doc J(const std::string& json) {
  bson_error_t error;
  bson_t* b = bson_new_from_json(reinterpret_cast<const std::uint8_t*>(json.data()),
                                 static_cast<ssize_t>(json.size()), &error);
  if (!b) throw std::invalid_argument("bad test JSON: " + json + ": " + error.message);
  bson_t out;
  bson_init(&out);
  unescape_keys(b, &out);
  Doc doc = Doc::copy_of(&out);
  bson_destroy(&out);
  bson_destroy(b);
  return doc;
}

// A BSON array from a JSON array ("[{...}, {...}]"): an array is stored as the document
// {"0": ..., "1": ...}, which is what pipelines and arrayFilters take.
inline Doc J_array(const std::string& json) {
  Doc wrapper = J("{\"a\": " + json + "}");
  bson_iter_t it;
  bson_iter_init_find(&it, wrapper.bson(), "a");
  const std::uint8_t* data = nullptr;
  std::uint32_t len = 0;
  bson_iter_array(&it, &len, &data);
  return Doc::from_bytes(data, len);
}

// Canonical extended JSON: shows exact types ($numberInt, $numberLong, $numberDouble).
inline std::string canonical(const Doc& doc) {
  std::size_t len = 0;
  char* text = bson_as_canonical_extended_json(doc.bson(), &len);
  std::string out(text, len);
  bson_free(text);
  return out;
}

// The same document written canonically, for exact comparisons in assertions.
inline std::string canonical(const std::string& json) { return canonical(J(json)); }

// An iterator over the value of field "v" in `holder` ({"v": ...}).
inline bson_iter_t value_iter(const Doc& holder) {
  bson_iter_t it;
  bson_iter_init_find(&it, holder.bson(), "v");
  return it;
}

// compare_values on two values written as JSON.
inline int compare_json(const std::string& a, const std::string& b) {
  Doc da = J("{\"v\": " + a + "}");
  Doc db = J("{\"v\": " + b + "}");
  bson_iter_t ia = value_iter(da), ib = value_iter(db);
  return compare_values(&ia, &ib);
}

inline bool matches(const std::string& filter, const std::string& doc) {
  Doc f = J(filter);
  Doc d = J(doc);
  return Matcher(f.bson()).matches(d.bson());
}

// Runs `fn` and returns the CommandError code it throws (0 when it does not throw).
template <typename Fn>
int error_code(Fn&& fn, std::string* message = nullptr) {
  try {
    fn();
  } catch (const CommandError& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return 0;
}

}  // namespace sandbox::testing

// compare_for_sort: MongoDB's sort keys. A missing field sorts as null; an array contributes
// its smallest element to an ascending sort and its largest to a descending one; an empty
// array sorts below null.
#include <string>

#include "query/paths.h"
#include "query/query.h"
#include "query/value.h"

namespace sandbox {
namespace {

// One candidate sort key. kEmptyArray < kNull < values (by compare_values).
struct SortKey {
  enum Kind { kEmptyArray, kNull, kValue } kind = kNull;
  bson_iter_t it{};
};

int compare_keys(const SortKey& a, const SortKey& b) {
  if (a.kind != SortKey::kValue || b.kind != SortKey::kValue) {
    // null values reached in the document compare equal to missing ones.
    auto rank = [](const SortKey& k) {
      if (k.kind == SortKey::kValue && BSON_ITER_HOLDS_NULL(&k.it)) return 1;
      return static_cast<int>(k.kind);
    };
    int ra = rank(a), rb = rank(b);
    if (ra != rb || ra < 2) return ra < rb ? -1 : (ra > rb ? 1 : 0);
  }
  return compare_values(&a.it, &b.it);
}

SortKey sort_key(const bson_t* doc, const std::vector<std::string>& parts, bool ascending) {
  std::optional<SortKey> best;
  auto offer = [&](const SortKey& k) {
    if (!best) {
      best = k;
      return;
    }
    int c = compare_keys(k, *best);
    if (ascending ? c < 0 : c > 0) best = k;
  };
  for (const PathValue& pv : values_at_path(doc, parts)) {
    if (pv.missing) {
      offer(SortKey{SortKey::kNull, {}});
    } else if (BSON_ITER_HOLDS_ARRAY(&pv.it) && !pv.array_element) {
      bson_t array;
      init_static_from_iter(&pv.it, &array);
      // A non-empty array's elements follow it in the PathValue list and are offered there.
      if (bson_empty(&array)) offer(SortKey{SortKey::kEmptyArray, {}});
    } else {
      offer(SortKey{SortKey::kValue, pv.it});
    }
  }
  return best.value_or(SortKey{});
}

}  // namespace

int compare_for_sort(const bson_t* a, const bson_t* b, const bson_t* sort_spec) {
  bson_iter_t spec;
  if (!bson_iter_init(&spec, sort_spec)) throw_bad_value("invalid sort specification");
  while (bson_iter_next(&spec)) {
    if (!is_number(bson_iter_type(&spec))) {
      throw CommandError(
          15974, "Location15974",
          "Illegal key in $sort specification: " + element_to_string(bson_iter_key(&spec), &spec));
    }
    long double direction = number_value(&spec);
    if (direction != 1 && direction != -1) {
      throw CommandError(15975, "Location15975",
                         "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
    }
    bool ascending = direction > 0;
    auto parts = split_path(bson_iter_key(&spec));
    int c = compare_keys(sort_key(a, parts, ascending), sort_key(b, parts, ascending));
    if (c != 0) return ascending ? c : -c;
  }
  return 0;
}

}  // namespace sandbox

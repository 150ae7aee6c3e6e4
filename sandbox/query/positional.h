// The all-positional operator $[] and filtered positional operator $[<identifier>] of update
// paths ("a.$[].b", "grades.$[g]"), with the update command's arrayFilters.
// The plain positional operator "$" needs the query's matched index and is not supported.
#pragma once

#include <bson/bson.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "query/match_tree.h"
#include "query/tree.h"

namespace sandbox {

bool is_positional_part(const std::string& part);  // "$[]" or "$[id]"

class ArrayFilters {
 public:
  // `filters` is the arrayFilters array (or nullptr). throws BadValue / FailedToParse as
  // MongoDB does for malformed filters.
  explicit ArrayFilters(const bson_t* filters);
  // Checks every $[id] in `parts` has a filter, and records it as used.
  void check_path(const std::string& path, const std::vector<std::string>& parts);
  // throws FailedToParse when a filter was not used by any path.
  void check_all_used() const;
  // The concrete paths `parts` stands for in `root`: every element for $[], the matching
  // elements for $[id]. throws BadValue when a positional part does not reach an array.
  std::vector<std::vector<std::string>> expand(const Node& root,
                                               const std::vector<std::string>& parts) const;

 private:
  void expand_from(const Node* node, const std::vector<std::string>& parts, std::size_t next,
                   std::vector<std::string> prefix,
                   std::vector<std::vector<std::string>>& out) const;
  bool element_matches(const std::string& id, const Node& element) const;

  std::map<std::string, std::shared_ptr<MatchExpr>> filters_;
  std::set<std::string> used_;
};

}  // namespace sandbox

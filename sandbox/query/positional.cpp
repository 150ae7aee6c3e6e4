#include "query/positional.h"

#include <algorithm>
#include <cctype>

#include "query/query.h"

namespace sandbox {
namespace {

// "x" in "$[x]"; empty for "$[]".
std::string identifier_of(const std::string& part) { return part.substr(2, part.size() - 3); }

// The identifier an array filter is about: the first path part of its fields.
std::string filter_identifier(const bson_t* filter) {
  std::string id;
  bson_iter_t it;
  bson_iter_init(&it, filter);
  while (bson_iter_next(&it)) {
    std::string key = bson_iter_key(&it);
    std::string first = key.substr(0, key.find('.'));
    if (first.empty() || first[0] == '$') {
      throw_bad_value(
          "Error parsing array filter :: caused by :: array filters support only field conditions, "
          "found '" +
          key + "'");
    }
    if (!id.empty() && id != first) {
      throw CommandError(9, "FailedToParse",
                         "Error parsing array filter :: caused by :: Expected a single top-level "
                         "field name, found '" +
                             id + "' and '" + first + "'");
    }
    id = first;
  }
  if (id.empty())
    throw CommandError(9, "FailedToParse",
                       "Cannot use an expression without a top-level field name in arrayFilters");
  if (!std::islower(static_cast<unsigned char>(id[0])) ||
      !std::all_of(id.begin(), id.end(),
                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
    throw_bad_value(
        "Error parsing array filter :: caused by :: The top-level field name must be an "
        "alphanumeric string "
        "beginning with a lowercase letter, found '" +
        id + "'");
  }
  return id;
}

}  // namespace

bool is_positional_part(const std::string& part) {
  return part.size() >= 3 && part[0] == '$' && part[1] == '[' && part.back() == ']';
}

ArrayFilters::ArrayFilters(const bson_t* filters) {
  if (!filters) return;
  bson_iter_t it;
  bson_iter_init(&it, filters);
  while (bson_iter_next(&it)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&it))
      throw CommandError(14, "TypeMismatch", "Each array filter must be an object");
    bson_t filter;
    init_static_from_iter(&it, &filter);
    std::string id = filter_identifier(&filter);
    if (filters_.count(id)) {
      throw CommandError(9, "FailedToParse",
                         "Found multiple array filters with the same top-level field name " + id);
    }
    filters_[id] = parse_filter(&filter);
  }
}

void ArrayFilters::check_path(const std::string& path, const std::vector<std::string>& parts) {
  for (const std::string& part : parts) {
    if (!is_positional_part(part) || part == "$[]") continue;
    std::string id = identifier_of(part);
    if (!filters_.count(id))
      throw_bad_value("No array filter found for identifier '" + id + "' in path '" + path + "'");
    used_.insert(id);
  }
}

void ArrayFilters::check_all_used() const {
  for (const auto& [id, filter] : filters_) {
    if (!used_.count(id))
      throw CommandError(9, "FailedToParse",
                         "The array filter for identifier '" + id + "' was not used in the update");
  }
}

bool ArrayFilters::element_matches(const std::string& id, const Node& element) const {
  // A filter on "x" or "x.f" is matched against the document {x: element}.
  Node holder;
  holder.append(id, element);
  Doc doc = holder.to_doc();
  return filters_.at(id)->matches(doc.bson());
}

void ArrayFilters::expand_from(const Node* node, const std::vector<std::string>& parts,
                               std::size_t next, std::vector<std::string> prefix,
                               std::vector<std::vector<std::string>>& out) const {
  for (; next < parts.size(); ++next) {
    const std::string& part = parts[next];
    if (is_positional_part(part)) {
      if (!node || !node->is_array()) {
        throw_bad_value("The path '" + join_path(prefix, prefix.size()) +
                        "' must exist in the document in order to apply array updates.");
      }
      std::string id = identifier_of(part);
      for (std::size_t i = 0; i < node->children.size(); ++i) {
        const Node& element = node->children[i].value;
        if (!id.empty() && !element_matches(id, element)) continue;
        std::vector<std::string> element_path = prefix;
        element_path.push_back(std::to_string(i));
        expand_from(&element, parts, next + 1, std::move(element_path), out);
      }
      return;
    }
    const Node* child = nullptr;
    if (node && node->is_document()) {
      child = node->find(part);
    } else if (node && node->is_array() && is_array_index(part)) {
      std::size_t i = std::stoul(part);
      child = i < node->children.size() ? &node->children[i].value : nullptr;
    }
    prefix.push_back(part);
    node = child;
  }
  out.push_back(prefix);
}

std::vector<std::vector<std::string>> ArrayFilters::expand(
    const Node& root, const std::vector<std::string>& parts) const {
  std::vector<std::vector<std::string>> out;
  expand_from(&root, parts, 0, {}, out);
  return out;
}

}  // namespace sandbox

// A mutable tree over a BSON document, for updates and oplog diffs. Leaves keep their exact
// value bytes, so a tree rebuilt from a document serializes back byte for byte.
#pragma once

#include <bson/bson.h>

#include <string>
#include <vector>

#include "query/value.h"

namespace sandbox {

struct Field;

struct Node {
  bson_type_t type = BSON_TYPE_DOCUMENT;
  Value scalar;                 // every type but document and array
  std::vector<Field> children;  // documents and arrays (array names are rewritten on output)

  static Node from_document(const bson_t* doc);
  static Node from_iter(const bson_iter_t* it);
  static Node from_value(const Value& v);
  static Node null();
  static Node empty_document();

  bool is_document() const { return type == BSON_TYPE_DOCUMENT; }
  bool is_array() const { return type == BSON_TYPE_ARRAY; }
  bool is_container() const { return is_document() || is_array(); }

  Node* find(const std::string& name);  // a document's field, or nullptr
  const Node* find(const std::string& name) const;
  Node& append(const std::string& name, Node value);
  bool remove(const std::string& name);  // false when absent

  Doc to_doc() const;      // REQUIRES: is_document()
  Value to_value() const;  // any node as a Value
  void append_to(bson_t* parent, const std::string& key) const;
  bool operator==(const Node& other) const;  // same bytes
};

struct Field {
  std::string name;
  Node value;
};

}  // namespace sandbox

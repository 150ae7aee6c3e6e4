#include "query/tree.h"

#include <algorithm>

namespace sandbox {

Node Node::from_document(const bson_t* doc) {
  Node node;
  node.type = BSON_TYPE_DOCUMENT;
  bson_iter_t it;
  bson_iter_init(&it, doc);
  while (bson_iter_next(&it)) node.children.push_back(Field{bson_iter_key(&it), from_iter(&it)});
  return node;
}

Node Node::from_iter(const bson_iter_t* it) {
  Node node;
  node.type = bson_iter_type(it);
  if (!node.is_container()) {
    node.scalar = Value::of(it);
    return node;
  }
  bson_iter_t child;
  bson_iter_recurse(it, &child);
  while (bson_iter_next(&child))
    node.children.push_back(Field{bson_iter_key(&child), from_iter(&child)});
  return node;
}

Node Node::from_value(const Value& v) {
  bson_iter_t it = v.iter();
  return from_iter(&it);
}

Node Node::null() { return from_value(Value::null()); }

Node Node::empty_document() { return Node{}; }

Node* Node::find(const std::string& name) {
  for (Field& f : children) {
    if (f.name == name) return &f.value;
  }
  return nullptr;
}

const Node* Node::find(const std::string& name) const {
  return const_cast<Node*>(this)->find(name);
}

Node& Node::append(const std::string& name, Node value) {
  children.push_back(Field{name, std::move(value)});
  return children.back().value;
}

bool Node::remove(const std::string& name) {
  auto it = std::find_if(children.begin(), children.end(),
                         [&](const Field& f) { return f.name == name; });
  if (it == children.end()) return false;
  children.erase(it);
  return true;
}

void Node::append_to(bson_t* parent, const std::string& key) const {
  int key_len = static_cast<int>(key.size());
  if (is_document()) {
    bson_t child;
    bson_append_document_begin(parent, key.data(), key_len, &child);
    for (const Field& f : children) f.value.append_to(&child, f.name);
    bson_append_document_end(parent, &child);
  } else if (is_array()) {
    bson_t child;
    bson_append_array_begin(parent, key.data(), key_len, &child);
    for (std::size_t i = 0; i < children.size(); ++i)
      children[i].value.append_to(&child, std::to_string(i));
    bson_append_array_end(parent, &child);
  } else {
    bson_iter_t it = scalar.iter();
    bson_append_iter(parent, key.data(), key_len, &it);
  }
}

Doc Node::to_doc() const {
  ScopedBson out;
  for (const Field& f : children) f.value.append_to(out.get(), f.name);
  return out.to_doc();
}

Value Node::to_value() const {
  ScopedBson out;
  append_to(out.get(), "");
  bson_iter_t it;
  bson_iter_init(&it, out.get());
  bson_iter_next(&it);
  return Value::of(&it);
}

bool Node::operator==(const Node& other) const {
  if (type != other.type) return false;
  if (!is_container()) return scalar.same_bytes(other.scalar);
  if (children.size() != other.children.size()) return false;
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (is_document() && children[i].name != other.children[i].name) return false;
    if (!(children[i].value == other.children[i].value)) return false;
  }
  return true;
}

}  // namespace sandbox

// The individual update operators ($set, $inc, $push, ...) applied to a document tree.
// Internal to sandbox/query; update.cpp parses, validates and orders the operations.
#pragma once

#include <string>
#include <vector>

#include "query/tree.h"

namespace sandbox {

struct UpdateOp {
  std::string op;                  // "$set", "$inc", ...
  std::string path;                // "a.b"
  std::vector<std::string> parts;  // {"a", "b"}
  bson_iter_t arg{};               // the operand, valid while the update document lives
  std::string target_path;         // $rename only: the new name
  std::vector<std::string> target_parts;
};

struct UpdateContext {
  std::string id_element;  // "_id: 1", for error messages
  bool is_insert = false;
};

// Applies one operation to `root`. throws CommandError with MongoDB's code and message.
void apply_operator(Node& root, const UpdateOp& op, const UpdateContext& ctx);

bool is_known_update_operator(const std::string& op);

}  // namespace sandbox

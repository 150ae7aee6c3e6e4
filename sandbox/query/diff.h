// MongoDB 5.0+ oplog update descriptions ($v:2 "delta" diffs), produced and applied.
//
// Format (db/update/document_diff_serialization.h in mongodb/mongo):
//   document diff: {d: {f: false}, u: {f: v}, i: {f: v}, s<f>: <subdiff>}
//     d deletes, u overwrites in place, i appends (moving the field to the end if present),
//     s<f> recurses into field f (a document diff or an array diff).
//   array diff: {a: true, l: <new length>, u<i>: v, s<i>: <subdiff>}
//     l (int32, written whenever the length changes) truncates or pads with nulls, u<i> sets
//     element i (padding with nulls past the end), s<i> recurses into element i; indexes
//     ascend. Sections of a document diff must come in the order d, u, i, s.
#pragma once

#include <bson/bson.h>

#include "query/document.h"
#include "query/tree.h"

namespace sandbox {

// The oplog `o` turning `before` into `after`: {$v: 2, diff: {...}}, or `after` itself when
// field order changed in a way a diff cannot express. REQUIRES: before != after.
Doc make_oplog_update(const Node& before, const Node& after);

// Applies a document diff (the value of `diff`) to `doc`. throws FailedToParse on a malformed diff.
void apply_document_diff(Node& doc, const bson_t* diff);

// Applies an operator update ({$set: ..., $unset: ...}) in place; also used for pre-5.0 oplog
// entries. `array_filters` may be nullptr. Defined in update.cpp.
void apply_operator_update(Node& root, const bson_t* update, bool is_insert,
                           const bson_t* array_filters);

}  // namespace sandbox

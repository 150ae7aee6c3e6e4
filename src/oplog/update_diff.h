// Applies the `$v: 2` update diffs that MongoDB 5.0+ logs for updates ({op: "u", o: {$v: 2,
// diff: {...}}}) to a document, for the places that must read the oplog's effect on documents
// themselves rather than replay it on a server (the sharding metadata of a cluster restore).
//
// The diff format (documented with the server's update code, doc_diff.h):
//   d: {field: false}      delete fields
//   u: {field: value}      set existing fields to value (in place)
//   i: {field: value}      insert new fields (appended)
//   s<field>: {...}        a sub-diff of an embedded document, or of an array when it holds
//                          a: true, with l: new length, u<index>: value, s<index>: sub-diff
#pragma once

#include "mongo/bson.h"

namespace shardsafe::oplog {

// `document` with `diff` (the value of o.diff) applied. Throws Error(kUnsupportedVersion)
// naming a part of the diff it does not know, Error(kCorruptData) for a sub-diff of a field
// that is neither a document nor an array.
mongo::Bson apply_update_diff(const mongo::Bson& document, const mongo::Bson& diff);

}  // namespace shardsafe::oplog

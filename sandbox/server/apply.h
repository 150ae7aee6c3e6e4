// Applies one oplog entry to the Catalog: the single path shared by the primary's own writes,
// secondaries replicating, applyOps, and journal replay after a restart, so all four agree.
#pragma once

#include "server/catalog.h"

namespace sandbox {

enum class ApplyMode {
  // The primary executing a client's write: inserts of an existing _id fail with 11000,
  // creating an existing collection fails with 48, as the command would.
  kStrict,
  // Replication, applyOps and journal replay: idempotent (an insert of an existing _id
  // replaces it, a delete of a missing document is a no-op), as oplog application must be.
  kIdempotent,
};

// Applies i/u/d/c/n entries. `post_image`, when given for a `u` entry, is the document after
// the update (the primary computed it already, and journal replay uses it instead of the
// diff). Throws CommandError for entries that cannot apply (unknown op, unknown command,
// missing namespace for an update in strict mode).
void apply_entry(Catalog& catalog, const bson_t* entry, ApplyMode mode,
                 const Doc* post_image = nullptr);

// The {_id: value} key of a document; throws BadValue when the document has no _id.
Doc id_key_of(const bson_t* doc);

}  // namespace sandbox

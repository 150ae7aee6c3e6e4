// Oplog entries (version 2) and the clock that stamps them. The oplog itself is the capped
// collection local.oplog.rs in the Catalog; see Engine for when entries are written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/bson_util.h"
#include "server/catalog.h"

namespace sandbox {

constexpr const char* kOplogDb = "local";
constexpr const char* kOplogColl = "oplog.rs";

// Hands out strictly increasing Timestamp(seconds, increment) values: the seconds follow the
// wall clock, the increment counts within a second, and a clock that goes backwards never makes
// a timestamp go backwards.
class OplogClock {
 public:
  Timestamp next();
  void observe(Timestamp seen);  // after replay or replication: never hand out <= seen
  Timestamp last() const { return last_; }

 private:
  Timestamp last_;
};

struct EntryFields {
  char op = 'n';                  // i u d c n
  std::string ns;
  std::optional<Uuid> ui;
  const bson_t* o = nullptr;
  const bson_t* o2 = nullptr;     // optional
  const bson_t* extra = nullptr;  // optional fields appended last (a transaction's lsid...)
};

// A transaction's statement as it appears inside applyOps: {op, ns, ui?, o, o2?}.
Doc make_inner_op(const EntryFields& fields);

// {op, ns, ui?, o, o2?, ts, t, v:2 (int64), wall} in the field order real servers write.
Doc make_entry(const EntryFields& fields, Timestamp ts, std::int64_t term);

OpTime entry_optime(const bson_t* entry);
Timestamp entry_timestamp(const bson_t* entry);

// Whether an entry for `ns` belongs in the oplog: every database except local.
bool is_replicated_namespace(const std::string& ns);

// Creates local.oplog.rs (capped to `size_bytes`) if it does not exist.
Collection& ensure_oplog(Catalog& catalog, std::int64_t size_bytes);

}  // namespace sandbox

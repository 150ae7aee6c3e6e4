// One oplog entry as replay sees it, and the exact form in which it is sent back to a server.
//
// An entry is parsed once from its raw BSON. Replay may rewrite its command object `o` (collMod
// options a server no longer accepts, `create`'s recordIdsReplicated, renameCollection's
// dropTarget UUID); every other field is copied verbatim from the original when re-encoded.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "mongo/bson.h"

namespace shardsafe::oplog {

struct OplogEntry {
  mongo::Timestamp ts;
  std::optional<std::int64_t> term;  // `t`; absent on very old entries
  std::int32_t version = 2;          // `v`
  std::string op;                    // i u d c n (and legacy cd ci cu km)
  std::string ns;                    // "db.coll", "db.$cmd", "admin.$cmd"; "" for some no-ops
  mongo::Bson o;                     // the document, update, or command (may be rewritten)
  mongo::Bson original;              // the entry as read: source of o2, ui, lsid, txnNumber, prevOpTime

  // The command name for `c` entries: the first key of `o` ("" when `o` is empty).
  std::string command_name() const;
  // The database part of `ns`.
  std::string db() const;
  // "ts 1732573800.5 on \"db.coll\"": how errors name an entry.
  std::string describe() const;
};

// Parses a raw top-level entry. Throws Error(kCorruptData) when the bytes are not one BSON
// document or a required field (ts, op, o; ns unless a no-op) is missing or of the wrong type.
OplogEntry parse_entry(std::span<const std::uint8_t> bytes);

// An operation nested in an applyOps array (a transaction or a batched applyOps). It has no ts,
// t or v of its own: it takes those of the entry that carries it. Throws Error(kCorruptData)
// naming the parent when op, ns or o are missing.
OplogEntry parse_nested_op(const mongo::Bson& op, const OplogEntry& parent);

// The entry as mongorestore --oplogReplay sends it inside applyOps: exactly
// {ts, t, v, op, ns, o, o2?, ui?, lsid?, txnNumber?, prevOpTime?} in that order. `t` is null
// when the entry had none, `v` is an int32; h, wall, stmtId and every other field are dropped.
// `ui` is kept only when `keep_uuid` (--preserveUUID).
mongo::Bson encode_for_apply_ops(const OplogEntry& entry, bool keep_uuid);

// A copy of `document` without the fields named in `keys` (top level only), order kept.
mongo::Bson without_fields(const mongo::Bson& document, std::initializer_list<std::string_view> keys);

}  // namespace shardsafe::oplog

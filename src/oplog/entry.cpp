#include "oplog/entry.h"

#include <algorithm>

#include "common/error.h"

namespace shardsafe::oplog {
namespace {

using mongo::Bson;
using mongo::BsonBuilder;
using mongo::BsonView;

[[noreturn]] void corrupt(const std::string& what) { throw Error(ErrorCode::kCorruptData, what); }

// `o` and `o2` must be documents; libbson's views hand back an owned copy.
Bson required_document(const BsonView& view, std::string_view key, const std::string& where) {
  bson_iter_t iter;
  if (!view.find(key, &iter) || !BSON_ITER_HOLDS_DOCUMENT(&iter)) {
    corrupt(where + " has no document field \"" + std::string(key) + "\"");
  }
  return *view.document(key);
}

void copy_field_if_present(BsonBuilder& out, const BsonView& from, std::string_view key) {
  bson_iter_t iter;
  if (from.find(key, &iter)) out.append_iter(key, &iter);
}

}  // namespace

std::string OplogEntry::command_name() const {
  bson_iter_t iter;
  if (bson_iter_init(&iter, o.get()) && bson_iter_next(&iter)) return bson_iter_key(&iter);
  return "";
}

std::string OplogEntry::db() const { return ns.substr(0, ns.find('.')); }

std::string OplogEntry::describe() const { return "ts " + ts.to_string() + " on \"" + ns + "\""; }

OplogEntry parse_entry(std::span<const std::uint8_t> bytes) {
  OplogEntry entry;
  entry.original = Bson::from_bytes(bytes);  // throws kCorruptData on bad BSON
  const BsonView view(entry.original);
  const auto ts = view.timestamp("ts");
  if (!ts) corrupt("oplog entry of " + std::to_string(bytes.size()) + " bytes has no timestamp field \"ts\"");
  entry.ts = *ts;
  const std::string where = "oplog entry at ts " + ts->to_string();
  const auto op = view.string("op");
  if (!op) corrupt(where + " has no string field \"op\"");
  entry.op = *op;
  const auto ns = view.string("ns");
  if (!ns && entry.op != "n") corrupt(where + " has no string field \"ns\"");
  entry.ns = ns.value_or("");
  entry.term = view.integer("t");
  entry.version = static_cast<std::int32_t>(view.integer("v").value_or(2));
  entry.o = required_document(view, "o", where);
  return entry;
}

OplogEntry parse_nested_op(const Bson& op, const OplogEntry& parent) {
  const BsonView view(op);
  const std::string where = "an operation inside applyOps at " + parent.describe();
  OplogEntry entry;
  entry.ts = parent.ts;
  entry.term = parent.term;
  entry.version = parent.version;
  const auto op_type = view.string("op");
  const auto ns = view.string("ns");
  if (!op_type || !ns) corrupt(where + " lacks its \"op\" or \"ns\" field");
  entry.op = *op_type;
  entry.ns = *ns;
  entry.o = required_document(view, "o", where);
  entry.original = op;
  return entry;
}

Bson encode_for_apply_ops(const OplogEntry& entry, bool keep_uuid) {
  const BsonView from(entry.original);
  BsonBuilder out;
  out.append("ts", entry.ts);
  if (entry.term) {
    out.append("t", *entry.term);
  } else {
    out.append_null("t");
  }
  out.append("v", entry.version).append("op", entry.op).append("ns", entry.ns).append("o", entry.o);
  copy_field_if_present(out, from, "o2");
  if (keep_uuid) copy_field_if_present(out, from, "ui");
  copy_field_if_present(out, from, "lsid");
  copy_field_if_present(out, from, "txnNumber");
  copy_field_if_present(out, from, "prevOpTime");
  return out.build();
}

Bson without_fields(const Bson& document, std::initializer_list<std::string_view> keys) {
  BsonBuilder out;
  bson_iter_t iter;
  if (bson_iter_init(&iter, document.get())) {
    while (bson_iter_next(&iter)) {
      const std::string_view key = bson_iter_key(&iter);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) out.append_iter(key, &iter);
    }
  }
  return out.build();
}

}  // namespace shardsafe::oplog

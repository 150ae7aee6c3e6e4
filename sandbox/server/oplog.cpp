#include "server/oplog.h"

#include <ctime>

namespace sandbox {

Timestamp OplogClock::next() {
  auto now = static_cast<std::uint32_t>(std::time(nullptr));
  if (now > last_.secs) {
    last_ = {now, 1};
  } else {
    ++last_.inc;
  }
  return last_;
}

void OplogClock::observe(Timestamp seen) {
  if (seen > last_) last_ = seen;
}

namespace {

void append_op_fields(bson_t* entry, const EntryFields& fields) {
  char op[2] = {fields.op, 0};
  BSON_APPEND_UTF8(entry, "op", op);
  BSON_APPEND_UTF8(entry, "ns", fields.ns.c_str());
  if (fields.ui) append_uuid(entry, "ui", *fields.ui);
  append_doc(entry, "o", fields.o);
  if (fields.o2 != nullptr) append_doc(entry, "o2", fields.o2);
}

}  // namespace

Doc make_inner_op(const EntryFields& fields) {
  Builder op;
  append_op_fields(op.get(), fields);
  return op.doc();
}

Doc make_entry(const EntryFields& fields, Timestamp ts, std::int64_t term) {
  Builder entry;
  append_op_fields(entry.get(), fields);
  BSON_APPEND_TIMESTAMP(entry.get(), "ts", ts.secs, ts.inc);
  BSON_APPEND_INT64(entry.get(), "t", term);
  BSON_APPEND_INT64(entry.get(), "v", 2);
  BSON_APPEND_DATE_TIME(entry.get(), "wall", now_millis());
  if (fields.extra != nullptr) bson_concat(entry.get(), fields.extra);
  return entry.doc();
}

Timestamp entry_timestamp(const bson_t* entry) {
  Timestamp ts;
  if (auto field = find_field(entry, "ts"); field && BSON_ITER_HOLDS_TIMESTAMP(&*field)) {
    bson_iter_timestamp(&*field, &ts.secs, &ts.inc);
  }
  return ts;
}

OpTime entry_optime(const bson_t* entry) {
  OpTime optime;
  optime.ts = entry_timestamp(entry);
  if (auto term = find_field(entry, "t")) optime.term = iter_number(&*term).value_or(-1);
  return optime;
}

bool is_replicated_namespace(const std::string& ns) { return ns.rfind("local.", 0) != 0; }

Collection& ensure_oplog(Catalog& catalog, std::int64_t size_bytes) {
  if (Collection* existing = catalog.find(kOplogDb, kOplogColl)) return *existing;
  Builder options;
  BSON_APPEND_BOOL(options.get(), "capped", true);
  BSON_APPEND_INT64(options.get(), "size", size_bytes);
  return catalog.create(kOplogDb, kOplogColl, new_uuid(), options.doc());
}

}  // namespace sandbox

// Writes: insert, update, delete, findAndModify. Every change goes through
// Engine::log_write, so it is applied, logged to the oplog and journalled the same way.
#include <algorithm>
#include <cstring>

#include "server/commands.h"
#include "server/validation.h"

namespace sandbox {
namespace {

constexpr std::size_t kMaxDocumentBytes = 16 * 1024 * 1024;

Collection& ensure_collection(CommandContext& context, const std::string& name) {
  Catalog& catalog = context.engine.catalog();
  if (Collection* existing = catalog.find(context.db, name)) {
    if (existing->is_view()) {
      throw_error(166, "CommandNotSupportedOnView", "Namespace " + existing->ns() + " is a view, not a collection");
    }
    return *existing;
  }
  validate_db_name(context.db);
  validate_collection_name(name);
  Builder create;
  BSON_APPEND_UTF8(create.get(), "create", name.c_str());
  Doc id_index = id_index_spec();  // implicit creation logs the _id index like explicit create
  append_doc(create.get(), "idIndex", id_index.bson());
  context.engine.log_write({.op = 'c', .ns = context.db + ".$cmd", .ui = new_uuid(), .o = create.get()});
  return catalog.require(context.db, name);
}

// The document with an _id first: an existing _id moves to the front (as mongod does), a
// missing one becomes a new ObjectId.
Doc with_id_first(const bson_t* doc) {
  auto id = find_field(doc, "_id");
  if (id && first_key(doc) == "_id") return Doc::copy_of(doc);
  Builder out;
  if (id) {
    append_iter(out.get(), "_id", &*id);
  } else {
    bson_oid_t oid;
    bson_oid_init(&oid, nullptr);
    BSON_APPEND_OID(out.get(), "_id", &oid);
  }
  bson_iter_t iter;
  bson_iter_init(&iter, doc);
  while (bson_iter_next(&iter)) {
    if (std::strcmp(bson_iter_key(&iter), "_id") != 0) append_iter(out.get(), bson_iter_key(&iter), &iter);
  }
  return out.doc();
}

// `before`: the document an update replaces, nullptr for an insert (see validate_document).
void check_document(const Collection& coll, const Doc& doc, const bson_t* cmd, const Doc* before) {
  if (doc.size() > kMaxDocumentBytes) {
    throw_error(10334, "BSONObjectTooLarge", "object to insert too large. size in bytes: " + std::to_string(doc.size()));
  }
  validate_document(coll, cmd, doc, before);
}

void log_insert(CommandContext& context, Collection& coll, const Doc& doc) {
  check_document(coll, doc, context.cmd, nullptr);
  context.engine.log_write({.op = 'i', .ns = coll.ns(), .ui = coll.uuid(), .o = doc.bson()});
}

void append_write_error(bson_t* errors, int index, const CommandError& error) {
  bson_t item;
  BSON_APPEND_DOCUMENT_BEGIN(errors, std::to_string(bson_count_keys(errors)).c_str(), &item);
  BSON_APPEND_INT32(&item, "index", index);
  BSON_APPEND_INT32(&item, "code", error.code());
  error.append_details(&item);
  BSON_APPEND_UTF8(&item, "errmsg", error.what());
  bson_append_document_end(errors, &item);
}

// The statements of a write command: the named array (documents, updates, deletes).
std::vector<Doc> statements(const bson_t* cmd, const char* field) {
  auto array = get_document(cmd, field);
  if (!array) throw_error(40414, "Location40414", std::string("BSON field '") + field + "' is missing but a required field");
  std::vector<Doc> result;
  bson_iter_t iter;
  bson_iter_init(&iter, array->bson());
  while (bson_iter_next(&iter)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&iter)) throw_error(14, "TypeMismatch", std::string(field) + " entries must be documents");
    result.push_back(iter_document(&iter));
  }
  if (result.size() > 100000) throw_error(2, "BadValue", "Write batch sizes must be between 1 and 100000");
  return result;
}

// {n, <extra fields>, writeErrors?, ok:1}
Doc write_reply(std::int64_t n, const bson_t* errors, const bson_t* extra = nullptr) {
  Builder out;
  BSON_APPEND_INT32(out.get(), "n", static_cast<std::int32_t>(n));
  if (extra != nullptr) bson_concat(out.get(), extra);
  if (!bson_empty(errors)) append_array(out.get(), "writeErrors", errors);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc insert(CommandContext& context) {
  std::string name = command_collection(context);
  auto documents = statements(context.cmd, "documents");
  bool ordered = get_bool(context.cmd, "ordered", true);
  Builder errors;
  std::int64_t n = 0;
  Collection* coll = nullptr;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    try {
      if (coll == nullptr) coll = &ensure_collection(context, name);
      log_insert(context, *coll, with_id_first(documents[i].bson()));
      ++n;
    } catch (const CommandError& error) {
      append_write_error(errors.get(), static_cast<int>(i), error);
      if (ordered) break;
    }
  }
  return write_reply(n, errors.get());
}

// Record ids of the documents `matcher` selects, in natural order (just one unless `multi`).
std::vector<std::int64_t> select(const Collection& coll, const Matcher& matcher, bool multi,
                                 const std::optional<Doc>& sort) {
  std::vector<std::int64_t> selected;
  if (auto id = matcher.id_equality()) {
    if (auto record_id = coll.find_by_id(*id); record_id && matcher.matches(coll.records().at(*record_id)->bson())) {
      selected.push_back(*record_id);
    }
    return selected;
  }
  for (const auto& [record_id, record] : coll.records()) {
    if (!matcher.matches(record->bson())) continue;
    selected.push_back(record_id);
    if (!multi && !sort) break;
  }
  if (sort && !selected.empty()) {
    const auto& records = coll.records();
    std::stable_sort(selected.begin(), selected.end(), [&](std::int64_t a, std::int64_t b) {
      return compare_for_sort(records.at(a)->bson(), records.at(b)->bson(), sort->bson()) < 0;
    });
    if (!multi) selected.resize(1);
  }
  return selected;
}

// Updates one document; returns whether it changed.
bool update_one(CommandContext& context, Collection& coll, std::int64_t record_id, const bson_t* update,
                Doc* after = nullptr) {
  Record before = coll.records().at(record_id);
  UpdateOutcome outcome = apply_update(before->bson(), update, false);
  if (after != nullptr) *after = outcome.document;
  if (!outcome.changed) return false;
  check_document(coll, outcome.document, context.cmd, before.get());
  Doc o2 = id_key_of(before->bson());
  context.engine.log_write({.op = 'u', .ns = coll.ns(), .ui = coll.uuid(), .o = outcome.oplog_o.bson(), .o2 = o2.bson()},
                           &outcome.document);
  return true;
}

// Inserts the document an upsert creates; returns it.
Doc upsert_insert(CommandContext& context, Collection& coll, const bson_t* filter, const bson_t* update) {
  Doc seed = upsert_seed(filter);
  UpdateOutcome outcome = apply_update(seed.bson(), update, true);
  Doc doc = outcome.document;
  if (!find_field(doc.bson(), "_id")) {
    if (auto id = find_field(seed.bson(), "_id")) {
      Builder with_seed_id;
      append_iter(with_seed_id.get(), "_id", &*id);
      bson_concat(with_seed_id.get(), doc.bson());
      doc = with_seed_id.doc();
    }
  }
  doc = with_id_first(doc.bson());
  log_insert(context, coll, doc);
  return doc;
}

Doc update(CommandContext& context) {
  std::string name = command_collection(context);
  auto updates = statements(context.cmd, "updates");
  bool ordered = get_bool(context.cmd, "ordered", true);
  Builder errors, upserted;
  std::int64_t matched = 0, modified = 0;
  for (std::size_t i = 0; i < updates.size(); ++i) {
    const bson_t* statement = updates[i].bson();
    try {
      Doc filter = get_document(statement, "q").value_or(Doc::empty());
      auto u = find_field(statement, "u");
      if (!u || BSON_ITER_HOLDS_ARRAY(&*u)) throw_error(9, "FailedToParse", "pipeline-style updates are not supported");
      if (!BSON_ITER_HOLDS_DOCUMENT(&*u)) throw_error(9, "FailedToParse", "BSON field 'u' must be a document");
      Doc change = iter_document(&*u);
      bool multi = get_bool(statement, "multi", false);
      if (multi && is_replacement_update(change.bson()) && !bson_empty(change.bson())) {
        throw_error(9, "FailedToParse", "multi update is not supported for replacement-style update");
      }
      Collection& coll = ensure_collection(context, name);
      Matcher matcher(filter.bson());
      auto selected = select(coll, matcher, multi, std::nullopt);
      for (std::int64_t record_id : selected) {
        ++matched;
        if (update_one(context, coll, record_id, change.bson())) ++modified;
      }
      if (selected.empty() && get_bool(statement, "upsert", false)) {
        Doc doc = upsert_insert(context, coll, filter.bson(), change.bson());
        bson_t item;
        BSON_APPEND_DOCUMENT_BEGIN(upserted.get(), std::to_string(bson_count_keys(upserted.get())).c_str(), &item);
        BSON_APPEND_INT32(&item, "index", static_cast<int>(i));
        auto id = find_field(doc.bson(), "_id");
        append_iter(&item, "_id", &*id);
        bson_append_document_end(upserted.get(), &item);
        ++matched;
      }
    } catch (const CommandError& error) {
      append_write_error(errors.get(), static_cast<int>(i), error);
      if (ordered) break;
    }
  }
  Builder extra;
  BSON_APPEND_INT32(extra.get(), "nModified", static_cast<std::int32_t>(modified));
  if (!bson_empty(upserted.get())) append_array(extra.get(), "upserted", upserted.get());
  return write_reply(matched, errors.get(), extra.get());
}

void log_delete(CommandContext& context, Collection& coll, std::int64_t record_id) {
  Doc key = id_key_of(coll.records().at(record_id)->bson());
  context.engine.log_write({.op = 'd', .ns = coll.ns(), .ui = coll.uuid(), .o = key.bson()});
}

Doc remove(CommandContext& context) {
  std::string name = command_collection(context);
  auto deletes = statements(context.cmd, "deletes");
  bool ordered = get_bool(context.cmd, "ordered", true);
  Builder errors;
  std::int64_t n = 0;
  for (std::size_t i = 0; i < deletes.size(); ++i) {
    try {
      Collection* coll = context.engine.catalog().find(context.db, name);
      if (coll == nullptr) continue;
      if (coll->is_view()) throw_error(166, "CommandNotSupportedOnView", "cannot delete from a view");
      Matcher matcher(get_document(deletes[i].bson(), "q").value_or(Doc::empty()).bson());
      bool multi = get_number(deletes[i].bson(), "limit").value_or(0) == 0;
      for (std::int64_t record_id : select(*coll, matcher, multi, std::nullopt)) {
        log_delete(context, *coll, record_id);
        ++n;
      }
    } catch (const CommandError& error) {
      append_write_error(errors.get(), static_cast<int>(i), error);
      if (ordered) break;
    }
  }
  return write_reply(n, errors.get());
}

Doc find_and_modify_reply(std::int64_t n, bool updated_existing, const std::optional<Doc>& upserted_id,
                          const std::optional<Doc>& value, const std::optional<Doc>& fields) {
  Builder out;
  bson_t last_error;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "lastErrorObject", &last_error);
  BSON_APPEND_INT32(&last_error, "n", static_cast<std::int32_t>(n));
  BSON_APPEND_BOOL(&last_error, "updatedExisting", updated_existing);
  if (upserted_id) {
    bson_iter_t id;
    bson_iter_init(&id, upserted_id->bson());
    bson_iter_next(&id);
    append_iter(&last_error, "upserted", &id);
  }
  bson_append_document_end(out.get(), &last_error);
  if (value) {
    Doc shown = fields ? project(value->bson(), fields->bson()) : *value;
    append_doc(out.get(), "value", shown.bson());
  } else {
    BSON_APPEND_NULL(out.get(), "value");
  }
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc find_and_modify(CommandContext& context) {
  std::string name = command_collection(context);
  Doc query = get_document(context.cmd, "query").value_or(Doc::empty());
  auto sort = get_document(context.cmd, "sort");
  if (sort && bson_empty(sort->bson())) sort.reset();
  auto fields = get_document(context.cmd, "fields");
  bool remove_doc = get_bool(context.cmd, "remove", false);
  auto change = get_document(context.cmd, "update");
  if (remove_doc == change.has_value()) {
    throw_error(9, "FailedToParse", "Either an update or remove=true must be specified");
  }
  bool return_new = get_bool(context.cmd, "new", false);
  Collection& coll = ensure_collection(context, name);
  Matcher matcher(query.bson());
  auto selected = select(coll, matcher, false, sort);
  if (selected.empty()) {
    if (!remove_doc && get_bool(context.cmd, "upsert", false)) {
      Doc doc = upsert_insert(context, coll, query.bson(), change->bson());
      Doc id = id_key_of(doc.bson());
      return find_and_modify_reply(1, false, id, return_new ? std::optional<Doc>(doc) : std::nullopt, fields);
    }
    return find_and_modify_reply(0, false, std::nullopt, std::nullopt, fields);
  }
  std::int64_t record_id = selected.front();
  Doc before = *coll.records().at(record_id);
  if (remove_doc) {
    log_delete(context, coll, record_id);
    return find_and_modify_reply(1, false, std::nullopt, before, fields);
  }
  Doc after;
  update_one(context, coll, record_id, change->bson(), &after);
  return find_and_modify_reply(1, true, std::nullopt, return_new ? after : before, fields);
}

}  // namespace

void add_write_commands(std::vector<CommandSpec>& table) {
  table.insert(table.end(), {
      {"insert", insert, CommandKind::kWrite},
      {"update", update, CommandKind::kWrite},
      {"delete", remove, CommandKind::kWrite},
      {"findAndModify", find_and_modify, CommandKind::kWrite},
      {"findandmodify", find_and_modify, CommandKind::kWrite},
  });
}

}  // namespace sandbox

#include "server/apply.h"

#include <cstring>

#include "query/query.h"
#include "server/oplog.h"

namespace sandbox {
namespace {

Doc id_key_from_o2(const bson_t* entry) {
  auto o2 = get_document(entry, "o2");
  if (!o2) throw_bad_value("update oplog entry has no o2");
  return id_key_of(o2->bson());
}

Collection& collection_for(Catalog& catalog, const Namespace& ns, const bson_t* entry) {
  if (Collection* found = catalog.find(ns.db, ns.coll)) return *found;
  // Inserts create their collection implicitly, with the entry's uuid when it has one.
  return catalog.create(ns.db, ns.coll, get_uuid(entry, "ui").value_or(new_uuid()), Doc::empty());
}

void apply_insert(Catalog& catalog, const Namespace& ns, const bson_t* entry, ApplyMode mode) {
  auto doc = get_document(entry, "o");
  if (!doc) throw_bad_value("insert oplog entry has no o");
  Collection& coll = collection_for(catalog, ns, entry);
  if (mode == ApplyMode::kIdempotent && find_field(doc->bson(), "_id")) {
    if (auto existing = coll.find_by_id(id_key_of(doc->bson()))) {
      coll.replace(*existing, std::move(*doc));
      return;
    }
  }
  coll.insert(std::move(*doc));
}

void apply_update(Catalog& catalog, const Namespace& ns, const bson_t* entry, ApplyMode mode,
                  const Doc* post_image) {
  auto o = get_document(entry, "o");
  if (!o) throw_bad_value("update oplog entry has no o");
  Collection* coll = catalog.find(ns.db, ns.coll);
  if (coll == nullptr) {
    if (mode == ApplyMode::kStrict) catalog.require(ns.db, ns.coll);
    coll = &collection_for(catalog, ns, entry);
  }
  Doc key = id_key_from_o2(entry);
  auto record_id = coll->find_by_id(key);
  if (!record_id) {
    // An upsert ("b":true) or a replacement can create the document; a diff cannot.
    if (post_image != nullptr) {
      coll->insert(*post_image);
    } else if (get_bool(entry, "b", false) || is_replacement_update(o->bson())) {
      Doc seed = apply_oplog_update(key.bson(), o->bson());
      coll->insert(std::move(seed));
    } else if (mode == ApplyMode::kStrict) {
      throw_error(26, "NamespaceNotFound", "no document with that _id to update in " + ns.str());
    }
    return;
  }
  if (post_image != nullptr) {
    coll->replace(*record_id, *post_image);
  } else {
    const Record& current = coll->records().at(*record_id);
    coll->replace(*record_id, apply_oplog_update(current->bson(), o->bson()));
  }
}

void apply_delete(Catalog& catalog, const Namespace& ns, const bson_t* entry) {
  auto o = get_document(entry, "o");
  if (!o) throw_bad_value("delete oplog entry has no o");
  Collection* coll = catalog.find(ns.db, ns.coll);
  if (coll == nullptr) return;
  if (auto record_id = coll->find_by_id(id_key_of(o->bson()))) coll->remove(*record_id);
}

void apply_ops_array(Catalog& catalog, const bson_t* o, ApplyMode mode) {
  auto ops = get_document(o, "applyOps");
  if (!ops) return;
  bson_iter_t iter;
  bson_iter_init(&iter, ops->bson());
  while (bson_iter_next(&iter)) {
    Doc op = iter_document(&iter);
    apply_entry(catalog, op.bson(), mode);
  }
}

// The prepare entry a commitTransaction entry names by prevOpTime, found in this member's oplog
// (the prepare entry always precedes its commit there: on the primary, on secondaries, and in
// journal replay).
Doc prepared_entry(const Catalog& catalog, const bson_t* commit_entry) {
  auto prepare_time = get_optime(commit_entry, "prevOpTime");
  const Collection* oplog = catalog.find(kOplogDb, kOplogColl);
  if (prepare_time && oplog != nullptr) {
    for (auto it = oplog->records().rbegin(); it != oplog->records().rend(); ++it) {
      if (entry_timestamp(it->second->bson()) == prepare_time->ts) return *it->second;
    }
  }
  throw_error(251, "NoSuchTransaction", "commitTransaction oplog entry names no prepare entry in the oplog");
}

// The command's options: `o` without its first (command name) field.
Doc without_first_field(const bson_t* o) {
  Builder rest;
  bson_iter_t iter;
  bson_iter_init(&iter, o);
  bool first = true;
  while (bson_iter_next(&iter)) {
    if (first) {
      first = false;
      continue;
    }
    append_iter(rest.get(), bson_iter_key(&iter), &iter);
  }
  return rest.doc();
}

void apply_coll_mod(Collection& coll, const bson_t* changes) {
  // Stored options are rebuilt with the changed fields replaced or added, order kept.
  Builder merged;
  bson_iter_t iter;
  bson_iter_init(&iter, coll.options().bson());
  while (bson_iter_next(&iter)) {
    if (!find_field(changes, bson_iter_key(&iter))) {
      append_iter(merged.get(), bson_iter_key(&iter), &iter);
    }
  }
  bson_iter_init(&iter, changes);
  while (bson_iter_next(&iter)) {
    if (std::strcmp(bson_iter_key(&iter), "index") != 0) {
      append_iter(merged.get(), bson_iter_key(&iter), &iter);
    }
  }
  coll.set_options(merged.doc());
}

void apply_command(Catalog& catalog, const std::string& db, const bson_t* entry, ApplyMode mode) {
  auto o = get_document(entry, "o");
  if (!o) throw_bad_value("command oplog entry has no o");
  std::string name = first_key(o->bson());
  if (name == "create") {
    auto coll = get_string(o->bson(), "create").value_or("");
    if (mode == ApplyMode::kIdempotent && catalog.find(db, coll)) return;
    Doc options = without_first_field(o->bson());
    Builder clean;  // idIndex is reported by listCollections separately, not as an option
    bson_iter_t iter;
    bson_iter_init(&iter, options.bson());
    while (bson_iter_next(&iter)) {
      if (std::strcmp(bson_iter_key(&iter), "idIndex") != 0) {
        append_iter(clean.get(), bson_iter_key(&iter), &iter);
      }
    }
    catalog.create(db, coll, get_uuid(entry, "ui").value_or(new_uuid()), clean.doc());
  } else if (name == "drop") {
    catalog.drop(db, get_string(o->bson(), "drop").value_or(""));
  } else if (name == "dropDatabase") {
    catalog.drop_database(db);
  } else if (name == "createIndexes") {
    auto coll_name = get_string(o->bson(), "createIndexes").value_or("");
    Collection& coll = collection_for(catalog, {db, coll_name}, entry);
    Doc spec = without_first_field(o->bson());
    coll.create_index(spec.bson());
  } else if (name == "dropIndexes" || name == "deleteIndexes") {
    Collection* coll = catalog.find(db, get_string(o->bson(), name).value_or(""));
    if (coll == nullptr) return;
    auto index = get_string(o->bson(), "index").value_or("*");
    if (index == "*") {
      coll->drop_all_indexes();
    } else {
      try {
        coll->drop_index(index);
      } catch (const CommandError&) {
        if (mode == ApplyMode::kStrict) throw;
      }
    }
  } else if (name == "renameCollection") {
    Namespace from = parse_namespace(get_string(o->bson(), "renameCollection").value_or(""));
    Namespace to = parse_namespace(get_string(o->bson(), "to").value_or(""));
    if (get_bool(o->bson(), "dropTarget", false)) catalog.drop(to.db, to.coll);
    if (mode == ApplyMode::kIdempotent && !catalog.find(from.db, from.coll)) return;
    catalog.rename(from, to);
  } else if (name == "collMod") {
    Collection& coll = catalog.require(db, get_string(o->bson(), "collMod").value_or(""));
    Doc changes = without_first_field(o->bson());
    apply_coll_mod(coll, changes.bson());
  } else if (name == "applyOps") {
    // A prepared transaction's operations wait for its commitTransaction entry.
    if (!get_bool(o->bson(), "prepare", false)) apply_ops_array(catalog, o->bson(), mode);
  } else if (name == "commitTransaction") {
    Doc prepared = prepared_entry(catalog, entry);
    apply_ops_array(catalog, get_document(prepared.bson(), "o")->bson(), mode);
  } else if (name != "abortTransaction") {  // aborting a prepared transaction changes no data
    throw_error(2, "BadValue", "unsupported command in oplog entry: " + name);
  }
}

}  // namespace

Doc id_key_of(const bson_t* doc) {
  auto id = find_field(doc, "_id");
  if (!id) throw_bad_value("document has no _id");
  return single_value("_id", &*id);
}

void apply_entry(Catalog& catalog, const bson_t* entry, ApplyMode mode, const Doc* post_image) {
  auto op = get_string(entry, "op");
  auto ns_text = get_string(entry, "ns");
  if (!op || op->size() != 1 || !ns_text) throw_bad_value("oplog entry needs op and ns");
  if ((*op)[0] == 'n') return;
  Namespace ns = parse_namespace(*ns_text);
  switch ((*op)[0]) {
    case 'i': apply_insert(catalog, ns, entry, mode); return;
    case 'u': apply_update(catalog, ns, entry, mode, post_image); return;
    case 'd': apply_delete(catalog, ns, entry); return;
    case 'c': apply_command(catalog, ns.db, entry, mode); return;
    default: throw_bad_value("invalid oplog op '" + *op + "'");
  }
}

}  // namespace sandbox

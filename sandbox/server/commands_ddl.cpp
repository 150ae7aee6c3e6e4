// Collection and index definition: create, createIndexes, dropIndexes, drop, dropDatabase,
// renameCollection, collMod. Each change is one `c` oplog entry on "<db>.$cmd", applied by the
// same code secondaries and journal replay run.
#include <cstring>
#include <set>

#include "server/commands.h"
#include "server/validation.h"

namespace sandbox {
namespace {

// Fields every command may carry that are not part of what it defines.
bool is_generic_field(std::string_view key) {
  static const std::set<std::string_view> generic = {
      "$db", "lsid", "$clusterTime", "writeConcern", "$readPreference", "txnNumber",
      "autocommit", "startTransaction", "comment", "apiVersion", "apiStrict",
      "apiDeprecationErrors", "maxTimeMS", "readConcern", "$audit", "$client", "mayBypassWriteBlocking"};
  return generic.contains(key);
}

Doc strip_generic(const bson_t* cmd) {
  Builder out;
  bson_iter_t iter;
  bson_iter_init(&iter, cmd);
  while (bson_iter_next(&iter)) {
    if (!is_generic_field(bson_iter_key(&iter))) append_iter(out.get(), bson_iter_key(&iter), &iter);
  }
  return out.doc();
}

std::string cmd_ns(const CommandContext& context) { return context.db + ".$cmd"; }

Doc create(CommandContext& context) {
  std::string name = command_collection(context);
  validate_collection_name(name);
  if (context.engine.catalog().find(context.db, name)) {
    throw_error(48, "NamespaceExists", "Collection " + context.db + "." + name + " already exists.");
  }
  Doc definition = strip_generic(context.cmd);
  check_validation_options("create", {context.db, name}, definition.bson());
  bool is_view = find_field(definition.bson(), "viewOn").has_value();
  Builder o;
  bson_concat(o.get(), definition.bson());
  if (!is_view) {
    Doc id_index = id_index_spec();
    append_doc(o.get(), "idIndex", id_index.bson());
  }
  std::optional<Uuid> uuid;
  if (!is_view) uuid = new_uuid();
  context.engine.log_write({.op = 'c', .ns = cmd_ns(context), .ui = uuid, .o = o.get()});
  return ok_reply();
}

// {v:2, key, name, <other options as given>}: the shape listIndexes reports.
Doc normalize_index_spec(const bson_t* spec) {
  auto key = get_document(spec, "key");
  auto name = get_string(spec, "name");
  if (!key || bson_empty(key->bson())) throw_error(67, "CannotCreateIndex", "index spec must have a non-empty 'key'");
  if (!name || name->empty()) throw_error(9, "FailedToParse", "index spec must have a 'name'");
  Builder out;
  BSON_APPEND_INT32(out.get(), "v", static_cast<int>(get_number(spec, "v").value_or(2)));
  append_doc(out.get(), "key", key->bson());
  BSON_APPEND_UTF8(out.get(), "name", name->c_str());
  bson_iter_t iter;
  bson_iter_init(&iter, spec);
  while (bson_iter_next(&iter)) {
    std::string_view field = bson_iter_key(&iter);
    if (field != "v" && field != "key" && field != "name" && field != "ns") append_iter(out.get(), field, &iter);
  }
  return out.doc();
}

bool index_exists(const Collection& coll, const Doc& spec) {
  std::string name = get_string(spec.bson(), "name").value_or("");
  for (const Index& index : coll.indexes()) {
    if (index.name == name && index.spec == spec) return true;
  }
  return false;
}

Doc create_indexes(CommandContext& context) {
  std::string name = command_collection(context);
  auto specs = get_document(context.cmd, "indexes");
  if (!specs) throw_error(40414, "Location40414", "BSON field 'createIndexes.indexes' is missing but a required field");
  Catalog& catalog = context.engine.catalog();
  bool created_collection = false;
  if (catalog.find(context.db, name) == nullptr) {
    validate_collection_name(name);
    Builder o;
    BSON_APPEND_UTF8(o.get(), "create", name.c_str());
    Doc id_index = id_index_spec();
    append_doc(o.get(), "idIndex", id_index.bson());
    context.engine.log_write({.op = 'c', .ns = cmd_ns(context), .ui = new_uuid(), .o = o.get()});
    created_collection = true;
  }
  Collection& coll = catalog.require(context.db, name);
  if (coll.is_view()) throw_error(166, "CommandNotSupportedOnView", "cannot create an index on a view");
  auto before = static_cast<std::int32_t>(coll.indexes().size());
  bson_iter_t iter;
  bson_iter_init(&iter, specs->bson());
  while (bson_iter_next(&iter)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&iter)) throw_error(14, "TypeMismatch", "index specs must be documents");
    Doc raw = iter_document(&iter);
    Doc spec = normalize_index_spec(raw.bson());
    if (index_exists(coll, spec)) continue;
    Builder o;
    BSON_APPEND_UTF8(o.get(), "createIndexes", name.c_str());
    bson_concat(o.get(), spec.bson());
    context.engine.log_write({.op = 'c', .ns = cmd_ns(context), .ui = coll.uuid(), .o = o.get()});
  }
  Builder out;
  BSON_APPEND_INT32(out.get(), "numIndexesBefore", before);
  BSON_APPEND_INT32(out.get(), "numIndexesAfter", static_cast<std::int32_t>(coll.indexes().size()));
  if (before == static_cast<std::int32_t>(coll.indexes().size())) {
    BSON_APPEND_UTF8(out.get(), "note", "all indexes already exist");
  }
  BSON_APPEND_BOOL(out.get(), "createdCollectionAutomatically", created_collection);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

// The names dropIndexes' `index` argument selects: "*", a name, a key pattern or names.
std::vector<std::string> indexes_to_drop(const Collection& coll, const bson_iter_t* which) {
  std::vector<std::string> names;
  if (BSON_ITER_HOLDS_UTF8(which) && std::strcmp(bson_iter_utf8(which, nullptr), "*") == 0) {
    for (const Index& index : coll.indexes()) {
      if (index.name != "_id_") names.push_back(index.name);
    }
  } else if (BSON_ITER_HOLDS_UTF8(which)) {
    names.emplace_back(bson_iter_utf8(which, nullptr));
  } else if (BSON_ITER_HOLDS_ARRAY(which)) {
    bson_iter_t element;
    bson_iter_recurse(which, &element);
    while (bson_iter_next(&element)) {
      if (BSON_ITER_HOLDS_UTF8(&element)) names.emplace_back(bson_iter_utf8(&element, nullptr));
    }
  } else if (BSON_ITER_HOLDS_DOCUMENT(which)) {
    Doc pattern = iter_document(which);
    for (const Index& index : coll.indexes()) {
      if (index.key == pattern) names.push_back(index.name);
    }
    if (names.empty()) throw_error(27, "IndexNotFound", "can't find index with key: " + json(pattern.bson()));
  }
  return names;
}

Doc drop_indexes(CommandContext& context) {
  std::string name = command_collection(context);
  Collection& coll = context.engine.catalog().require(context.db, name);
  auto which = find_field(context.cmd, "index");
  if (!which) throw_error(40414, "Location40414", "BSON field 'dropIndexes.index' is missing but a required field");
  auto was = static_cast<std::int32_t>(coll.indexes().size());
  for (const std::string& index : indexes_to_drop(coll, &*which)) {
    bool known = false;
    for (const Index& existing : coll.indexes()) known = known || existing.name == index;
    if (!known) throw_error(27, "IndexNotFound", "index not found with name [" + index + "]");
    if (index == "_id_") throw_error(72, "InvalidOptions", "cannot drop _id index");
    Builder o;
    BSON_APPEND_UTF8(o.get(), "dropIndexes", name.c_str());
    BSON_APPEND_UTF8(o.get(), "index", index.c_str());
    context.engine.log_write({.op = 'c', .ns = cmd_ns(context), .ui = coll.uuid(), .o = o.get()});
  }
  Builder out;
  BSON_APPEND_INT32(out.get(), "nIndexesWas", was);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

void log_drop(CommandContext& context, const std::string& db, Collection& coll) {
  Builder o;
  BSON_APPEND_UTF8(o.get(), "drop", coll.name().c_str());
  std::optional<Uuid> uuid;
  if (!coll.is_view()) uuid = coll.uuid();
  context.engine.cursors().close_namespace(db, coll.name());
  context.engine.log_write({.op = 'c', .ns = db + ".$cmd", .ui = uuid, .o = o.get()});
}

Doc drop(CommandContext& context) {
  std::string name = command_collection(context);
  Collection* coll = context.engine.catalog().find(context.db, name);
  if (coll == nullptr) return ok_reply();  // 7.0: dropping a missing collection succeeds
  if (context.db == "local" && name == "oplog.rs" && context.engine.writes_oplog()) {
    throw_error(20, "IllegalOperation", "can't drop live oplog while replicating");
  }
  auto was = static_cast<std::int32_t>(coll->indexes().size());
  std::string ns = coll->ns();
  log_drop(context, context.db, *coll);
  Builder out;
  BSON_APPEND_INT32(out.get(), "nIndexesWas", was);
  BSON_APPEND_UTF8(out.get(), "ns", ns.c_str());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc drop_database(CommandContext& context) {
  if (context.db == "local" || context.db == "admin" || context.db == "config") {
    throw_error(20, "IllegalOperation", "Cannot drop '" + context.db + "' database");
  }
  if (context.engine.catalog().has_database(context.db)) {
    for (Collection* coll : context.engine.catalog().collections(context.db)) {
      context.engine.cursors().close_namespace(context.db, coll->name());
    }
    Builder o;
    BSON_APPEND_INT32(o.get(), "dropDatabase", 1);
    context.engine.log_write({.op = 'c', .ns = cmd_ns(context), .o = o.get()});
  }
  Builder out;
  BSON_APPEND_UTF8(out.get(), "dropped", context.db.c_str());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc rename_collection(CommandContext& context) {
  if (context.db != "admin") throw_error(13, "Unauthorized", "renameCollection may only be run against the admin database.");
  auto from_text = get_string(context.cmd, "renameCollection");
  auto to_text = get_string(context.cmd, "to");
  if (!from_text || !to_text) throw_error(9, "FailedToParse", "renameCollection needs 'renameCollection' and 'to' namespaces");
  Namespace from = parse_namespace(*from_text);
  Namespace to = parse_namespace(*to_text);
  Catalog& catalog = context.engine.catalog();
  Collection& source = catalog.require(from.db, from.coll);
  if (from.str() == to.str()) throw_error(20, "IllegalOperation", "Can't rename a collection to itself");
  bool drop_target = get_bool(context.cmd, "dropTarget", false);
  if (catalog.find(to.db, to.coll) && !drop_target) {
    throw_error(48, "NamespaceExists", "target namespace exists");
  }
  Builder o;
  BSON_APPEND_UTF8(o.get(), "renameCollection", from.str().c_str());
  BSON_APPEND_UTF8(o.get(), "to", to.str().c_str());
  BSON_APPEND_BOOL(o.get(), "stayTemp", get_bool(context.cmd, "stayTemp", false));
  BSON_APPEND_BOOL(o.get(), "dropTarget", drop_target);
  context.engine.cursors().close_namespace(from.db, from.coll);
  context.engine.log_write({.op = 'c', .ns = from.db + ".$cmd", .ui = source.uuid(), .o = o.get()});
  return ok_reply();
}

Doc coll_mod(CommandContext& context) {
  std::string name = command_collection(context);
  Collection& coll = context.engine.catalog().require(context.db, name);
  Doc o = strip_generic(context.cmd);
  check_validation_options("collMod", {context.db, name}, o.bson());
  std::optional<Uuid> uuid;
  if (!coll.is_view()) uuid = coll.uuid();
  context.engine.log_write({.op = 'c', .ns = cmd_ns(context), .ui = uuid, .o = o.bson()});
  return ok_reply();
}

}  // namespace

void add_ddl_commands(std::vector<CommandSpec>& table) {
  table.insert(table.end(), {
      {"create", create, CommandKind::kWrite},
      {"createIndexes", create_indexes, CommandKind::kWrite},
      {"dropIndexes", drop_indexes, CommandKind::kWrite},
      {"deleteIndexes", drop_indexes, CommandKind::kWrite},
      {"drop", drop, CommandKind::kWrite},
      {"dropDatabase", drop_database, CommandKind::kWrite},
      {"renameCollection", rename_collection, CommandKind::kWrite},
      {"collMod", coll_mod, CommandKind::kWrite},
  });
}

}  // namespace sandbox

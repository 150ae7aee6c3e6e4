#include "server/auth_store.h"

#include <algorithm>
#include <set>

#include "query/query.h"
#include "query/value.h"

namespace sandbox {

std::optional<AuthName> name_of(const bson_t* doc, const AuthKind& kind) {
  auto name = find_field(doc, kind.name_field);
  auto db = find_field(doc, "db");
  if (!name || !db || !BSON_ITER_HOLDS_UTF8(&*name) || !BSON_ITER_HOLDS_UTF8(&*db)) return std::nullopt;
  return AuthName{bson_iter_utf8(&*name, nullptr), bson_iter_utf8(&*db, nullptr)};
}

// As mongod's bsonExtractStringField: 4 NoSuchKey when absent, 14 TypeMismatch when not a string.
AuthName require_name_of(const bson_t* doc, const AuthKind& kind) {
  for (const char* field : {kind.name_field, "db"}) {
    auto value = find_field(doc, field);
    if (!value) throw_error(4, "NoSuchKey", std::string("Missing expected field \"") + field + "\"");
    if (!BSON_ITER_HOLDS_UTF8(&*value)) {
      throw_error(14, "TypeMismatch", std::string("\"") + field + "\" had the wrong type. Expected string, found " +
                                          type_name(bson_iter_type(&*value)));
    }
  }
  return *name_of(doc, kind);
}

// Role names as commands take them: "name" (a role of `default_db`) or {role, db}.
std::vector<AuthName> parse_role_names(const bson_t* array, const std::string& default_db) {
  std::vector<AuthName> roles;
  bson_iter_t iter;
  bson_iter_init(&iter, array);
  while (bson_iter_next(&iter)) {
    if (BSON_ITER_HOLDS_UTF8(&iter)) {
      roles.push_back({bson_iter_utf8(&iter, nullptr), default_db});
      continue;
    }
    std::optional<AuthName> role;
    if (BSON_ITER_HOLDS_DOCUMENT(&iter)) role = name_of(iter_document(&iter).bson(), kRoles);
    if (!role) throw_error(2, "BadValue", "role names must be strings or {role: <string>, db: <string>} documents");
    roles.push_back(std::move(*role));
  }
  return roles;
}

Doc roles_array(const std::vector<AuthName>& roles) {
  Builder out;
  for (std::size_t i = 0; i < roles.size(); ++i) {
    bson_t item;
    BSON_APPEND_DOCUMENT_BEGIN(out.get(), std::to_string(i).c_str(), &item);
    BSON_APPEND_UTF8(&item, "role", roles[i].name.c_str());
    BSON_APPEND_UTF8(&item, "db", roles[i].db.c_str());
    bson_append_document_end(out.get(), &item);
  }
  return out.doc();
}

// MongoDB 7.0's built-in roles: the database roles exist in every database, the others in admin.
bool is_builtin_role(const AuthName& role) {
  static const std::set<std::string, std::less<>> kEveryDatabase = {"read", "readWrite", "dbAdmin", "dbOwner",
                                                                   "userAdmin"};
  static const std::set<std::string, std::less<>> kAdminOnly = {
      "readAnyDatabase", "readWriteAnyDatabase", "userAdminAnyDatabase", "dbAdminAnyDatabase",
      "clusterAdmin",    "clusterManager",       "clusterMonitor",       "hostManager",
      "backup",          "restore",              "root",                 "enableSharding",
      "__system",        "__queryableBackup",    "searchCoordinator"};
  return kEveryDatabase.contains(role.name) || (role.db == kAdminDb && kAdminOnly.contains(role.name));
}

// ---------------------------------------------------------------- storage

Collection* auth_collection(Engine& engine, const AuthKind& kind) { return engine.catalog().find(kAdminDb, kind.coll); }

namespace {

// admin.system.users/roles, created (with mongod's unique {<name>:1, db:1} index) on first use.
Collection& ensure_auth_collection(Engine& engine, const AuthKind& kind) {
  if (Collection* existing = auth_collection(engine, kind)) return *existing;
  Uuid uuid = new_uuid();
  Builder create;
  BSON_APPEND_UTF8(create.get(), "create", kind.coll);
  Doc id_index = id_index_spec();
  append_doc(create.get(), "idIndex", id_index.bson());
  engine.log_write({.op = 'c', .ns = std::string(kAdminDb) + ".$cmd", .ui = uuid, .o = create.get()});
  Builder index;
  BSON_APPEND_UTF8(index.get(), "createIndexes", kind.coll);
  BSON_APPEND_INT32(index.get(), "v", 2);
  bson_t key;
  BSON_APPEND_DOCUMENT_BEGIN(index.get(), "key", &key);
  BSON_APPEND_INT32(&key, kind.name_field, 1);
  BSON_APPEND_INT32(&key, "db", 1);
  bson_append_document_end(index.get(), &key);
  BSON_APPEND_UTF8(index.get(), "name", kind.index_name);
  BSON_APPEND_BOOL(index.get(), "unique", true);
  engine.log_write({.op = 'c', .ns = std::string(kAdminDb) + ".$cmd", .ui = uuid, .o = index.get()});
  return engine.catalog().require(kAdminDb, kind.coll);
}

}  // namespace

// The record of the document naming `name`, found by its {<name_field>, db} as mongod queries.
std::optional<std::int64_t> find_record(const Collection* coll, const AuthKind& kind, const AuthName& name) {
  if (coll == nullptr) return std::nullopt;
  for (const auto& [record_id, record] : coll->records()) {
    if (name_of(record->bson(), kind) == name) return record_id;
  }
  return std::nullopt;
}

std::optional<Doc> find_document(Engine& engine, const AuthKind& kind, const AuthName& name) {
  Collection* coll = auth_collection(engine, kind);
  auto record_id = find_record(coll, kind, name);
  if (!record_id) return std::nullopt;
  return *coll->records().at(*record_id);
}

std::vector<Doc> all_documents(Engine& engine, const AuthKind& kind) {
  std::vector<Doc> docs;
  if (Collection* coll = auth_collection(engine, kind)) {
    for (const auto& [record_id, record] : coll->records()) docs.push_back(*record);
  }
  return docs;
}

void insert_document(Engine& engine, const AuthKind& kind, const Doc& doc) {
  Collection& coll = ensure_auth_collection(engine, kind);
  engine.log_write({.op = 'i', .ns = coll.ns(), .ui = coll.uuid(), .o = doc.bson()});
}

// Applies an update (operators or a replacement) to one record, as the update command does.
void update_record(Engine& engine, Collection& coll, std::int64_t record_id, const bson_t* update) {
  Record before = coll.records().at(record_id);
  UpdateOutcome outcome = apply_update(before->bson(), update, false);
  if (!outcome.changed) return;
  Doc o2 = id_key_of(before->bson());
  engine.log_write({.op = 'u', .ns = coll.ns(), .ui = coll.uuid(), .o = outcome.oplog_o.bson(), .o2 = o2.bson()},
                   &outcome.document);
}

void delete_record(Engine& engine, Collection& coll, std::int64_t record_id) {
  Doc key = id_key_of(coll.records().at(record_id)->bson());
  engine.log_write({.op = 'd', .ns = coll.ns(), .ui = coll.uuid(), .o = key.bson()});
}

// {$set: {<field>: <array>}}
Doc set_array(const char* field, const Doc& array) {
  Builder update;
  bson_t set;
  BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
  append_array(&set, field, array.bson());
  bson_append_document_end(update.get(), &set);
  return update.doc();
}

bool role_exists(Engine& engine, const AuthName& role) {
  return is_builtin_role(role) || find_record(auth_collection(engine, kRoles), kRoles, role).has_value();
}

void check_roles_exist(Engine& engine, const std::vector<AuthName>& roles) {
  for (const AuthName& role : roles) {
    if (!role_exists(engine, role)) throw_error(31, "RoleNotFound", "Could not find role: " + role.full());
  }
}

// The custom role's direct roles ([] for built-in and missing roles).
std::vector<AuthName> direct_roles(Engine& engine, const AuthName& role) {
  auto doc = find_document(engine, kRoles, role);
  if (!doc) return {};
  auto roles = get_document(doc->bson(), "roles");
  return roles ? parse_role_names(roles->bson(), role.db) : std::vector<AuthName>{};
}

// Every role `roles` reach through the role graph, themselves included, in discovery order.
std::vector<AuthName> reachable_roles(Engine& engine, const std::vector<AuthName>& roles) {
  std::vector<AuthName> found;
  std::vector<AuthName> pending = roles;
  while (!pending.empty()) {
    AuthName next = pending.back();
    pending.pop_back();
    if (std::find(found.begin(), found.end(), next) != found.end()) continue;
    found.push_back(next);
    for (AuthName& inherited : direct_roles(engine, next)) pending.push_back(std::move(inherited));
  }
  return found;
}

}  // namespace sandbox

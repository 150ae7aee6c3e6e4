// User and role management, stored as mongod stores it: admin.system.users
// {_id:"<db>.<user>", userId, user, db, credentials, customData?, roles:[{role, db}]} and
// admin.system.roles {_id:"<db>.<role>", role, db, privileges, roles}. Every change is an
// ordinary insert/update/delete through Engine::log_write, so it is journalled and replicated
// like any other write. Nothing is enforced: the sandbox has no authentication.
//
// Commands: createUser, updateUser, dropUser, dropAllUsersFromDatabase, grantRolesToUser,
// revokeRolesFromUser, usersInfo, createRole, updateRole, dropRole, rolesInfo, and
// _mergeAuthzCollections (mongorestore's way of restoring users and roles).
#include <algorithm>
#include <set>

#include "query/query.h"
#include "query/value.h"
#include "server/auth_scram.h"
#include "server/auth_store.h"
#include "server/commands.h"
#include "server/log.h"

namespace sandbox {
namespace {

// ---------------------------------------------------------------- command field readers

[[noreturn]] void throw_missing(const std::string& command, const std::string& field) {
  throw_error(40414, "Location40414", "BSON field '" + command + "." + field + "' is missing but a required field");
}

std::optional<std::string> string_field(const bson_t* cmd, const std::string& command, const std::string& field) {
  auto value = find_field(cmd, field);
  if (!value) return std::nullopt;
  if (!BSON_ITER_HOLDS_UTF8(&*value)) throw_wrong_type(command, field, &*value, "string");
  return std::string(bson_iter_utf8(&*value, nullptr));
}

std::string required_string(const bson_t* cmd, const std::string& command, const std::string& field) {
  auto value = string_field(cmd, command, field);
  if (!value) throw_missing(command, field);
  return *value;
}

std::optional<Doc> object_field(const bson_t* cmd, const std::string& command, const std::string& field) {
  auto value = find_field(cmd, field);
  if (!value) return std::nullopt;
  if (!BSON_ITER_HOLDS_DOCUMENT(&*value)) throw_wrong_type(command, field, &*value, "object");
  return iter_document(&*value);
}

std::optional<Doc> array_field(const bson_t* cmd, const std::string& command, const std::string& field) {
  auto value = find_field(cmd, field);
  if (!value) return std::nullopt;
  if (!BSON_ITER_HOLDS_ARRAY(&*value)) throw_wrong_type(command, field, &*value, "array");
  return iter_document(&*value);
}

Doc required_array(const bson_t* cmd, const std::string& command, const std::string& field) {
  auto value = array_field(cmd, command, field);
  if (!value) throw_missing(command, field);
  return std::move(*value);
}

// The user or role a command names as its first value ({createUser: "alice"}).
AuthName command_target(const CommandContext& context) {
  std::string command = first_key(context.cmd);
  return {required_string(context.cmd, command, command), context.db};
}

// ---------------------------------------------------------------- selectors (usersInfo, rolesInfo)

// What an info command asks for: every user of every database, every one of this database, or
// exact names.
struct Selection {
  bool all_databases = false;
  bool this_database = false;
  std::vector<AuthName> names;

  bool selects(const AuthName& name, const std::string& db) const {
    if (all_databases) return true;
    if (this_database) return name.db == db;
    return std::find(names.begin(), names.end(), name) != names.end();
  }
  bool is_exact() const { return !all_databases && !this_database; }
};

AuthName selected_name(const bson_iter_t* value, const AuthKind& kind, const std::string& db) {
  if (BSON_ITER_HOLDS_UTF8(value)) return {bson_iter_utf8(value, nullptr), db};
  if (BSON_ITER_HOLDS_DOCUMENT(value)) return require_name_of(iter_document(value).bson(), kind);
  throw_error(2, "BadValue", std::string(kind.name_field) + " names must be strings or {" + kind.name_field +
                                 ", db} documents");
}

Selection parse_selection(const CommandContext& context, const AuthKind& kind, bool allow_all_databases) {
  bson_iter_t value;
  bson_iter_init(&value, context.cmd);
  bson_iter_next(&value);
  Selection selection;
  if (iter_number(&value)) {
    if (*iter_number(&value) != 1) throw_error(2, "BadValue", first_key(context.cmd) + " must be 1, a name, a document or an array");
    selection.this_database = true;
  } else if (BSON_ITER_HOLDS_DOCUMENT(&value) && find_field(iter_document(&value).bson(), "forAllDBs")) {
    if (!allow_all_databases || !get_bool(iter_document(&value).bson(), "forAllDBs", false)) {
      throw_error(2, "BadValue", "forAllDBs must be true, and only usersInfo accepts it");
    }
    selection.all_databases = true;
  } else if (BSON_ITER_HOLDS_ARRAY(&value)) {
    Doc array = iter_document(&value);
    bson_iter_t item;
    bson_iter_init(&item, array.bson());
    while (bson_iter_next(&item)) selection.names.push_back(selected_name(&item, kind, context.db));
  } else {
    selection.names.push_back(selected_name(&value, kind, context.db));
  }
  return selection;
}

Doc documents_array(const std::vector<Doc>& docs) {
  Builder out;
  for (std::size_t i = 0; i < docs.size(); ++i) append_doc(out.get(), std::to_string(i), docs[i].bson());
  return out.doc();
}

// ---------------------------------------------------------------- users

std::optional<std::vector<std::string>> parse_mechanisms(const bson_t* cmd, const std::string& command) {
  auto array = array_field(cmd, command, "mechanisms");
  if (!array) return std::nullopt;
  std::vector<std::string> mechanisms;
  bson_iter_t iter;
  bson_iter_init(&iter, array->bson());
  while (bson_iter_next(&iter)) {
    if (!BSON_ITER_HOLDS_UTF8(&iter)) throw_wrong_type(command, "mechanisms", &iter, "string");
    std::string mechanism = bson_iter_utf8(&iter, nullptr);
    if (mechanism != kScramSha1 && mechanism != kScramSha256) {
      throw_error(2, "BadValue", "Unknown auth mechanism '" + mechanism + "'");
    }
    mechanisms.push_back(std::move(mechanism));
  }
  if (mechanisms.empty()) throw_error(2, "BadValue", "mechanisms field must not be empty");
  return mechanisms;
}

// {SCRAM-SHA-1: {...}, SCRAM-SHA-256: {...}} for the requested mechanisms (default: both).
Doc build_credentials(const AuthName& user, const std::string& password,
                      const std::optional<std::vector<std::string>>& mechanisms) {
  Builder out;
  for (const char* mechanism : {kScramSha1, kScramSha256}) {
    if (mechanisms && std::find(mechanisms->begin(), mechanisms->end(), mechanism) == mechanisms->end()) continue;
    Doc credential = scram_credential(mechanism, user.name, password);
    append_doc(out.get(), mechanism, credential.bson());
  }
  return out.doc();
}

// Pre-digested passwords (digestPassword: false) only ever worked for SCRAM-SHA-1; the sandbox
// refuses them rather than store unusable credentials.
void refuse_predigested(const bson_t* cmd) {
  if (find_field(cmd, "digestPassword") && !get_bool(cmd, "digestPassword", true)) {
    throw_error(2, "BadValue", "the sandbox supports only digestPassword: true");
  }
}

Doc create_user(CommandContext& context) {
  AuthName user = command_target(context);
  const std::string command = "createUser";
  if (context.db == "local") throw_error(2, "BadValue", "Cannot create users in the local database");
  bool external = context.db == "$external";
  auto password = string_field(context.cmd, command, "pwd");
  if (!password && !external) {
    throw_error(2, "BadValue", "Must provide a 'pwd' field for all user documents, except those with '$external' as the user's source db");
  }
  if (password && external) throw_error(2, "BadValue", "Cannot set the password for users defined on the '$external' database");
  auto mechanisms = parse_mechanisms(context.cmd, command);
  refuse_predigested(context.cmd);
  auto custom_data = object_field(context.cmd, command, "customData");
  auto roles = parse_role_names(required_array(context.cmd, command, "roles").bson(), context.db);
  check_roles_exist(context.engine, roles);
  if (find_record(auth_collection(context.engine, kUsers), kUsers, user)) {
    throw_error(51003, "Location51003", "User \"" + user.full() + "\" already exists");
  }
  Builder doc;
  BSON_APPEND_UTF8(doc.get(), "_id", user.id().c_str());
  append_uuid(doc.get(), "userId", new_uuid());
  BSON_APPEND_UTF8(doc.get(), "user", user.name.c_str());
  BSON_APPEND_UTF8(doc.get(), "db", user.db.c_str());
  bson_t credentials;
  BSON_APPEND_DOCUMENT_BEGIN(doc.get(), "credentials", &credentials);
  if (password) {
    Doc scram = build_credentials(user, *password, mechanisms);
    bson_concat(&credentials, scram.bson());
  } else {
    BSON_APPEND_BOOL(&credentials, "external", true);
  }
  bson_append_document_end(doc.get(), &credentials);
  if (custom_data) append_doc(doc.get(), "customData", custom_data->bson());
  append_array(doc.get(), "roles", roles_array(roles).bson());
  insert_document(context.engine, kUsers, doc.doc());
  return ok_reply();
}

// updateUser {mechanisms} without pwd: drops the credentials of other mechanisms; every listed
// mechanism must already have credentials.
void trim_credentials(const Doc& user_doc, const std::vector<std::string>& keep, bson_t* unset) {
  Doc credentials = get_document(user_doc.bson(), "credentials").value_or(Doc::empty());
  for (const std::string& mechanism : keep) {
    if (!find_field(credentials.bson(), mechanism)) {
      throw_error(2, "BadValue", "mechanisms field must be a subset of previously set mechanisms");
    }
  }
  bson_iter_t iter;
  bson_iter_init(&iter, credentials.bson());
  while (bson_iter_next(&iter)) {
    std::string mechanism = bson_iter_key(&iter);
    if (std::find(keep.begin(), keep.end(), mechanism) == keep.end()) {
      BSON_APPEND_UTF8(unset, ("credentials." + mechanism).c_str(), "");
    }
  }
}

Doc update_user(CommandContext& context) {
  AuthName user = command_target(context);
  const std::string command = "updateUser";
  auto mechanisms = parse_mechanisms(context.cmd, command);
  refuse_predigested(context.cmd);
  auto password = string_field(context.cmd, command, "pwd");
  auto custom_data = object_field(context.cmd, command, "customData");
  auto roles_field = array_field(context.cmd, command, "roles");
  if (!password && !custom_data && !roles_field && !mechanisms) {
    throw_error(2, "BadValue", "Must specify at least one field to update in updateUser");
  }
  Collection* coll = auth_collection(context.engine, kUsers);
  auto record_id = find_record(coll, kUsers, user);
  if (!record_id) throw_error(11, "UserNotFound", "User " + user.full() + " not found");
  Builder set, unset;
  if (password) {
    if (user.db == "$external") throw_error(2, "BadValue", "Cannot set the password for users defined on the '$external' database");
    append_doc(set.get(), "credentials", build_credentials(user, *password, mechanisms).bson());
  } else if (mechanisms) {
    trim_credentials(*coll->records().at(*record_id), *mechanisms, unset.get());
  }
  if (custom_data) append_doc(set.get(), "customData", custom_data->bson());
  if (roles_field) {
    auto roles = parse_role_names(roles_field->bson(), context.db);
    check_roles_exist(context.engine, roles);
    append_array(set.get(), "roles", roles_array(roles).bson());
  }
  Builder update;
  if (!bson_empty(set.get())) append_doc(update.get(), "$set", set.get());
  if (!bson_empty(unset.get())) append_doc(update.get(), "$unset", unset.get());
  if (!bson_empty(update.get())) update_record(context.engine, *coll, *record_id, update.get());
  return ok_reply();
}

Doc drop_user(CommandContext& context) {
  AuthName user = command_target(context);
  Collection* coll = auth_collection(context.engine, kUsers);
  auto record_id = find_record(coll, kUsers, user);
  if (!record_id) throw_error(11, "UserNotFound", "User '" + user.full() + "' not found");
  delete_record(context.engine, *coll, *record_id);
  return ok_reply();
}

Doc drop_all_users_from_database(CommandContext& context) {
  std::int32_t removed = 0;
  if (Collection* coll = auth_collection(context.engine, kUsers)) {
    std::vector<std::int64_t> doomed;
    for (const auto& [record_id, record] : coll->records()) {
      if (get_string(record->bson(), "db") == context.db) doomed.push_back(record_id);
    }
    for (std::int64_t record_id : doomed) delete_record(context.engine, *coll, record_id);
    removed = static_cast<std::int32_t>(doomed.size());
  }
  Builder out;
  BSON_APPEND_INT32(out.get(), "n", removed);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

// grantRolesToUser / revokeRolesFromUser: the user's roles with `roles` added or removed.
Doc change_user_roles(CommandContext& context, bool grant) {
  AuthName user = command_target(context);
  std::string command = first_key(context.cmd);
  auto roles = parse_role_names(required_array(context.cmd, command, "roles").bson(), context.db);
  if (roles.empty()) throw_error(2, "BadValue", command + " command requires a non-empty \"roles\" array");
  Collection* coll = auth_collection(context.engine, kUsers);
  auto record_id = find_record(coll, kUsers, user);
  if (!record_id) {
    throw_error(11, "UserNotFound", "Could not find user \"" + user.name + "\" for db \"" + user.db + "\"");
  }
  check_roles_exist(context.engine, roles);
  auto current_field = get_document(coll->records().at(*record_id)->bson(), "roles");
  auto current = current_field ? parse_role_names(current_field->bson(), user.db) : std::vector<AuthName>{};
  for (const AuthName& role : roles) {
    auto found = std::find(current.begin(), current.end(), role);
    if (grant && found == current.end()) current.push_back(role);
    if (!grant && found != current.end()) current.erase(found);
  }
  Doc update = set_array("roles", roles_array(current));
  update_record(context.engine, *coll, *record_id, update.bson());
  return ok_reply();
}

Doc grant_roles_to_user(CommandContext& context) { return change_user_roles(context, true); }
Doc revoke_roles_from_user(CommandContext& context) { return change_user_roles(context, false); }

// A user as usersInfo shows it: without credentials (unless asked), authenticationRestrictions
// and (if asked) customData, with `mechanisms` (the credentials' names) appended.
Doc user_info(const bson_t* user, bool show_credentials, bool show_custom_data) {
  Builder out;
  bson_iter_t iter;
  bson_iter_init(&iter, user);
  while (bson_iter_next(&iter)) {
    std::string_view key = bson_iter_key(&iter);
    if (key == "authenticationRestrictions" || (key == "credentials" && !show_credentials) ||
        (key == "customData" && !show_custom_data)) {
      continue;
    }
    append_iter(out.get(), key, &iter);
  }
  bson_t mechanisms;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "mechanisms", &mechanisms);
  Doc credentials = get_document(user, "credentials").value_or(Doc::empty());
  bson_iter_init(&iter, credentials.bson());
  for (int i = 0; bson_iter_next(&iter); ++i) BSON_APPEND_UTF8(&mechanisms, std::to_string(i).c_str(), bson_iter_key(&iter));
  bson_append_array_end(out.get(), &mechanisms);
  return out.doc();
}

Doc users_info(CommandContext& context) {
  Selection selection = parse_selection(context, kUsers, true);
  auto filter = object_field(context.cmd, "usersInfo", "filter");
  if ((get_bool(context.cmd, "showPrivileges", false) || get_bool(context.cmd, "showAuthenticationRestrictions", false)) &&
      (filter || !selection.is_exact())) {
    throw_error(20, "IllegalOperation", "Privilege or restriction details require exact-match usersInfo queries");
  }
  std::vector<std::pair<AuthName, Doc>> selected;
  for (Doc& doc : all_documents(context.engine, kUsers)) {
    auto name = name_of(doc.bson(), kUsers);
    if (name && selection.selects(*name, context.db)) selected.emplace_back(std::move(*name), std::move(doc));
  }
  // mongod sorts by {user: 1, db: 1}. The elements hold a Doc: stable_sort_aligned (value.h).
  stable_sort_aligned(selected, [](const auto& a, const auto& b) { return a.first < b.first; });
  std::optional<Matcher> matcher;
  if (filter) matcher.emplace(filter->bson());
  std::vector<Doc> users;
  for (const auto& [name, doc] : selected) {
    Doc shown = user_info(doc.bson(), get_bool(context.cmd, "showCredentials", false),
                          get_bool(context.cmd, "showCustomData", true));
    if (!matcher || matcher->matches(shown.bson())) users.push_back(std::move(shown));
  }
  Builder out;
  append_array(out.get(), "users", documents_array(users).bson());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

// ---------------------------------------------------------------- roles

// mongod's checkOkayToGrantRolesToRole: no self-grant, roles outside admin inherit only from
// their own database, granted roles exist, and no cycle.
void check_grantable_roles(Engine& engine, const AuthName& role, const std::vector<AuthName>& granted) {
  for (const AuthName& other : granted) {
    if (other == role) throw_error(49, "InvalidRoleModification", "Cannot grant role " + role.full() + " to itself.");
    if (role.db != kAdminDb && other.db != role.db) {
      throw_error(49, "InvalidRoleModification",
                  "Roles on the '" + role.db + "' database cannot be granted roles from other databases");
    }
    if (!role_exists(engine, other)) throw_error(31, "RoleNotFound", "Cannot grant nonexistent role " + other.full());
    auto inherited = reachable_roles(engine, direct_roles(engine, other));
    if (std::find(inherited.begin(), inherited.end(), role) != inherited.end()) {
      throw_error(49, "InvalidRoleModification",
                  "Granting " + other.full() + " to " + role.full() + " would introduce a cycle in the role graph.");
    }
  }
}

// Privileges are {resource: {db, collection} | {cluster: true} | ..., actions: [...]}; roles
// outside admin may only target their own database.
void check_privileges(const AuthName& role, const Doc& privileges) {
  bson_iter_t iter;
  bson_iter_init(&iter, privileges.bson());
  while (bson_iter_next(&iter)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&iter)) throw_error(14, "TypeMismatch", "privileges must be documents");
    Doc privilege = iter_document(&iter);
    auto resource = get_document(privilege.bson(), "resource");
    if (!resource || !get_document(privilege.bson(), "actions")) {
      throw_error(2, "BadValue", "a privilege needs a 'resource' document and an 'actions' array");
    }
    if (role.db != kAdminDb && get_string(resource->bson(), "db") != role.db) {
      throw_error(49, "InvalidRoleModification", "Roles on the '" + role.db +
                                                     "' database cannot be granted privileges that target other databases or the cluster");
    }
  }
}

Doc create_role(CommandContext& context) {
  AuthName role = command_target(context);
  const std::string command = "createRole";
  if (role.name.empty()) throw_error(2, "BadValue", "Role name must be non-empty");
  if (context.db == "local") throw_error(2, "BadValue", "Cannot create roles in the local database");
  if (context.db == "$external") throw_error(2, "BadValue", "Cannot create roles in the $external database");
  if (is_builtin_role(role)) throw_error(2, "BadValue", "Cannot create roles with the same name as a built-in role");
  Doc privileges = required_array(context.cmd, command, "privileges");
  auto roles = parse_role_names(required_array(context.cmd, command, "roles").bson(), context.db);
  auto restrictions = array_field(context.cmd, command, "authenticationRestrictions");
  check_grantable_roles(context.engine, role, roles);
  check_privileges(role, privileges);
  if (find_record(auth_collection(context.engine, kRoles), kRoles, role)) {
    throw_error(51002, "Location51002", "Role \"" + role.full() + "\" already exists");
  }
  Builder doc;
  BSON_APPEND_UTF8(doc.get(), "_id", role.id().c_str());
  BSON_APPEND_UTF8(doc.get(), "role", role.name.c_str());
  BSON_APPEND_UTF8(doc.get(), "db", role.db.c_str());
  append_array(doc.get(), "privileges", privileges.bson());
  append_array(doc.get(), "roles", roles_array(roles).bson());
  if (restrictions && !bson_empty(restrictions->bson())) append_array(doc.get(), "authenticationRestrictions", restrictions->bson());
  insert_document(context.engine, kRoles, doc.doc());
  return ok_reply();
}

Doc update_role(CommandContext& context) {
  AuthName role = command_target(context);
  const std::string command = "updateRole";
  auto privileges = array_field(context.cmd, command, "privileges");
  auto roles_field = array_field(context.cmd, command, "roles");
  auto restrictions = array_field(context.cmd, command, "authenticationRestrictions");
  if (!privileges && !roles_field && !restrictions) {
    throw_error(2, "BadValue", "Must specify at least one field to update in updateRole");
  }
  Collection* coll = auth_collection(context.engine, kRoles);
  auto record_id = find_record(coll, kRoles, role);
  if (!record_id) throw_error(31, "RoleNotFound", "Could not find role: " + role.full());
  Builder set, unset;
  if (privileges) {
    check_privileges(role, *privileges);
    append_array(set.get(), "privileges", privileges->bson());
  }
  if (roles_field) {
    auto roles = parse_role_names(roles_field->bson(), context.db);
    check_grantable_roles(context.engine, role, roles);
    append_array(set.get(), "roles", roles_array(roles).bson());
  }
  if (restrictions && bson_empty(restrictions->bson())) BSON_APPEND_UTF8(unset.get(), "authenticationRestrictions", "");
  if (restrictions && !bson_empty(restrictions->bson())) append_array(set.get(), "authenticationRestrictions", restrictions->bson());
  Builder update;
  if (!bson_empty(set.get())) append_doc(update.get(), "$set", set.get());
  if (!bson_empty(unset.get())) append_doc(update.get(), "$unset", unset.get());
  update_record(context.engine, *coll, *record_id, update.get());
  return ok_reply();
}

// Removes `role` from the roles array of every document of `kind` that holds it.
void remove_role_references(Engine& engine, const AuthKind& kind, const AuthName& role) {
  Collection* coll = auth_collection(engine, kind);
  if (coll == nullptr) return;
  std::vector<std::pair<std::int64_t, std::vector<AuthName>>> changes;
  for (const auto& [record_id, record] : coll->records()) {
    auto field = get_document(record->bson(), "roles");
    auto owner = name_of(record->bson(), kind);
    if (!field || !owner) continue;
    auto roles = parse_role_names(field->bson(), owner->db);
    auto kept = std::remove(roles.begin(), roles.end(), role);
    if (kept == roles.end()) continue;
    roles.erase(kept, roles.end());
    changes.emplace_back(record_id, std::move(roles));
  }
  for (const auto& [record_id, roles] : changes) {
    Doc update = set_array("roles", roles_array(roles));
    update_record(engine, *coll, record_id, update.bson());
  }
}

Doc drop_role(CommandContext& context) {
  AuthName role = command_target(context);
  if (is_builtin_role(role)) throw_error(2, "BadValue", role.full() + " is a built-in role and cannot be modified");
  if (!find_record(auth_collection(context.engine, kRoles), kRoles, role)) {
    throw_error(31, "RoleNotFound", "Could not find role: " + role.full());
  }
  remove_role_references(context.engine, kUsers, role);
  remove_role_references(context.engine, kRoles, role);
  Collection* coll = auth_collection(context.engine, kRoles);
  delete_record(context.engine, *coll, *find_record(coll, kRoles, role));
  return ok_reply();
}

// A role as rolesInfo describes it: {_id, role, db, [privileges], roles, isBuiltin,
// inheritedRoles, [inheritedPrivileges]}. Built-in roles are described without privileges.
Doc role_info(Engine& engine, const AuthName& role, bool show_privileges) {
  auto doc = find_document(engine, kRoles, role);
  auto direct = direct_roles(engine, role);
  Builder out;
  if (doc) BSON_APPEND_UTF8(out.get(), "_id", role.id().c_str());
  BSON_APPEND_UTF8(out.get(), "role", role.name.c_str());
  BSON_APPEND_UTF8(out.get(), "db", role.db.c_str());
  Doc own_privileges = doc ? get_document(doc->bson(), "privileges").value_or(Doc::empty()) : Doc::empty();
  if (show_privileges) append_array(out.get(), "privileges", own_privileges.bson());
  append_array(out.get(), "roles", roles_array(direct).bson());
  BSON_APPEND_BOOL(out.get(), "isBuiltin", !doc.has_value());
  auto inherited = reachable_roles(engine, direct);
  append_array(out.get(), "inheritedRoles", roles_array(inherited).bson());
  if (show_privileges) {
    std::vector<Doc> all_privileges;
    for (const AuthName& source : reachable_roles(engine, {role})) {
      auto source_doc = find_document(engine, kRoles, source);
      auto privileges = source_doc ? get_document(source_doc->bson(), "privileges") : std::nullopt;
      if (!privileges) continue;
      bson_iter_t iter;
      bson_iter_init(&iter, privileges->bson());
      while (bson_iter_next(&iter)) all_privileges.push_back(iter_document(&iter));
    }
    append_array(out.get(), "inheritedPrivileges", documents_array(all_privileges).bson());
  }
  return out.doc();
}

Doc roles_info(CommandContext& context) {
  Selection selection = parse_selection(context, kRoles, false);
  bool show_privileges = get_bool(context.cmd, "showPrivileges", false);
  std::vector<AuthName> names;
  if (selection.this_database) {
    for (const Doc& doc : all_documents(context.engine, kRoles)) {
      auto name = name_of(doc.bson(), kRoles);
      if (name && name->db == context.db) names.push_back(*name);
    }
    std::sort(names.begin(), names.end());
  } else {
    for (const AuthName& name : selection.names) {
      if (role_exists(context.engine, name)) names.push_back(name);
    }
  }
  std::vector<Doc> roles;
  for (const AuthName& name : names) roles.push_back(role_info(context.engine, name, show_privileges));
  Builder out;
  append_array(out.get(), "roles", documents_array(roles).bson());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

// ---------------------------------------------------------------- _mergeAuthzCollections

// Its fields, typed as mongod's IDL declares them.
struct MergeRequest {
  std::string temp_users;  // "admin.<coll>" or "" (skip users)
  std::string temp_roles;  // "admin.<coll>" or "" (skip roles)
  std::string db;          // "" = every database
  bool drop = false;
};

MergeRequest parse_merge_request(const CommandContext& context) {
  const std::string command = "_mergeAuthzCollections";
  if (context.db != kAdminDb) {
    throw_error(13, "Unauthorized", command + " may only be run against the admin database.");
  }
  MergeRequest request;
  request.temp_users = string_field(context.cmd, command, "tempUsersCollection").value_or("");
  request.temp_roles = string_field(context.cmd, command, "tempRolesCollection").value_or("");
  request.db = required_string(context.cmd, command, "db");
  if (auto drop = find_field(context.cmd, "drop")) {
    if (!BSON_ITER_HOLDS_BOOL(&*drop)) throw_wrong_type(command, "drop", &*drop, "bool");
    request.drop = bson_iter_bool(&*drop);
  }
  if (request.temp_users.empty() && request.temp_roles.empty()) {
    throw_error(2, "BadValue", "Must provide at least one of \"tempUsersCollection\" and \"tempRolescollection\"");
  }
  return request;
}

// The document with an _id, as an insert gives it one.
Doc with_id(const Doc& doc) {
  if (find_field(doc.bson(), "_id")) return doc;
  Builder out;
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  BSON_APPEND_OID(out.get(), "_id", &oid);
  bson_concat(out.get(), doc.bson());
  return out.doc();
}

// One kind (users or roles) of the merge, as mongod's _processUsers/_processRoles: every
// document of the temp collection within scope is inserted, or, with drop, replaces the
// existing one of the same name; with drop, existing ones in scope that the temp collection
// lacks are deleted. A document that cannot be written (an insert of an existing name without
// drop) is skipped with a log line, as mongod does "to match the behavior of mongorestore".
void merge_kind(Engine& engine, const AuthKind& kind, const std::string& temp_ns, const MergeRequest& request) {
  auto in_scope = [&](const AuthName& name) { return request.db.empty() || name.db == request.db; };
  std::set<AuthName> to_drop;
  if (request.drop) {
    for (const Doc& doc : all_documents(engine, kind)) {
      if (AuthName name = require_name_of(doc.bson(), kind); in_scope(name)) to_drop.insert(name);
    }
  }
  Namespace temp = parse_namespace(temp_ns);
  std::vector<Doc> incoming;
  if (Collection* coll = engine.catalog().find(temp.db, temp.coll)) {
    for (const auto& [record_id, record] : coll->records()) incoming.push_back(*record);
  }
  for (const Doc& doc : incoming) {
    AuthName name = require_name_of(doc.bson(), kind);
    if (!in_scope(name)) continue;
    try {
      Collection* target = auth_collection(engine, kind);
      auto existing = find_record(target, kind, name);
      if (request.drop && to_drop.contains(name) && existing) {
        update_record(engine, *target, *existing, doc.bson());
      } else {
        insert_document(engine, kind, with_id(doc));
      }
    } catch (const CommandError& error) {
      log_line("_mergeAuthzCollections: could not write " + std::string(kind.name_field) + " " + name.full() + ": " +
               error.what());
    }
    to_drop.erase(name);
  }
  Collection* target = auth_collection(engine, kind);
  for (const AuthName& name : to_drop) {
    if (auto record_id = find_record(target, kind, name)) delete_record(engine, *target, *record_id);
  }
}

Doc merge_authz_collections(CommandContext& context) {
  MergeRequest request = parse_merge_request(context);
  if (!request.temp_users.empty()) merge_kind(context.engine, kUsers, request.temp_users, request);
  if (!request.temp_roles.empty()) merge_kind(context.engine, kRoles, request.temp_roles, request);
  return ok_reply();
}

}  // namespace

void add_auth_commands(std::vector<CommandSpec>& table) {
  table.insert(table.end(), {
      {"createUser", create_user, CommandKind::kWrite},
      {"updateUser", update_user, CommandKind::kWrite},
      {"dropUser", drop_user, CommandKind::kWrite},
      {"dropAllUsersFromDatabase", drop_all_users_from_database, CommandKind::kWrite},
      {"grantRolesToUser", grant_roles_to_user, CommandKind::kWrite},
      {"revokeRolesFromUser", revoke_roles_from_user, CommandKind::kWrite},
      {"usersInfo", users_info, CommandKind::kRead},
      {"createRole", create_role, CommandKind::kWrite},
      {"updateRole", update_role, CommandKind::kWrite},
      {"dropRole", drop_role, CommandKind::kWrite},
      {"rolesInfo", roles_info, CommandKind::kRead},
      {"_mergeAuthzCollections", merge_authz_collections, CommandKind::kWrite},
  });
}

}  // namespace sandbox

// The authorization documents of admin.system.users and admin.system.roles: names, role
// references and the writes commands make to them. Every write goes through Engine::log_write
// (applied, journalled, replicated like any other write).
//
// Thread safety: none; callers hold the Engine's mutex (REQUIRES it for every function).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/engine.h"

namespace sandbox {

inline constexpr const char* kAdminDb = "admin";

// A user or role name: "<name>@<db>" in messages, "<db>.<name>" as the document's _id.
struct AuthName {
  std::string name;
  std::string db;
  std::string id() const { return db + "." + name; }
  std::string full() const { return name + "@" + db; }
  auto operator<=>(const AuthName&) const = default;
};

// What distinguishes the two kinds of authorization documents.
struct AuthKind {
  const char* coll;        // in admin
  const char* name_field;  // "user" or "role"
  const char* index_name;  // mongod's unique index on {<name_field>:1, db:1}
};
inline constexpr AuthKind kUsers{"system.users", "user", "user_1_db_1"};
inline constexpr AuthKind kRoles{"system.roles", "role", "role_1_db_1"};

// {<name_field>, db} of an authorization document; nullopt when either is missing or not a string.
std::optional<AuthName> name_of(const bson_t* doc, const AuthKind& kind);
// As mongod's bsonExtractStringField: throws 4 NoSuchKey when a field is absent, 14
// TypeMismatch when it is not a string.
AuthName require_name_of(const bson_t* doc, const AuthKind& kind);
// Role names as commands take them: "name" (a role of `default_db`) or {role, db}; throws
// 2 BadValue for anything else.
std::vector<AuthName> parse_role_names(const bson_t* array, const std::string& default_db);
Doc roles_array(const std::vector<AuthName>& roles);  // [{role, db}, ...]
// MongoDB 7.0's built-in roles: the database roles exist in every database, the others in admin.
bool is_builtin_role(const AuthName& role);

Collection* auth_collection(Engine& engine, const AuthKind& kind);  // nullptr until first written
// The record of the document naming `name` (found by {<name_field>, db}, as mongod queries).
std::optional<std::int64_t> find_record(const Collection* coll, const AuthKind& kind, const AuthName& name);
std::optional<Doc> find_document(Engine& engine, const AuthKind& kind, const AuthName& name);
std::vector<Doc> all_documents(Engine& engine, const AuthKind& kind);  // in natural order
// Inserts into admin.system.users/roles, creating the collection with mongod's unique
// {<name_field>:1, db:1} index on first use. Throws 11000 for an existing _id.
void insert_document(Engine& engine, const AuthKind& kind, const Doc& doc);
// Applies an update (operators or a replacement) to one record, as the update command does.
void update_record(Engine& engine, Collection& coll, std::int64_t record_id, const bson_t* update);
void delete_record(Engine& engine, Collection& coll, std::int64_t record_id);
Doc set_array(const char* field, const Doc& array);  // {$set: {<field>: <array>}}

bool role_exists(Engine& engine, const AuthName& role);  // built-in or in admin.system.roles
// Throws 31 RoleNotFound naming the first role that does not exist.
void check_roles_exist(Engine& engine, const std::vector<AuthName>& roles);
// The custom role's direct roles ([] for built-in and missing roles).
std::vector<AuthName> direct_roles(Engine& engine, const AuthName& role);
// Every role `roles` reach through the role graph, themselves included, in discovery order.
std::vector<AuthName> reachable_roles(Engine& engine, const std::vector<AuthName>& roles);

}  // namespace sandbox

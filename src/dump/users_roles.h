// Users and roles (admin.system.users and admin.system.roles) are restored the way stock
// mongorestore restores them: never written in place (a server caches them, and refuses to
// rename system collections), but loaded into ordinary collections in admin that the server
// then merges with _mergeAuthzCollections. A copy of the target's own users and roles, taken
// before, merged back with drop:true, is what a rollback puts back.
#pragma once

#include <string>

#include "mongo/client.h"

namespace shardsafe::dump {

// admin.system.users or admin.system.roles.
bool is_users_or_roles(const std::string& db, const std::string& collection);

// Creates admin.<to> holding a copy of every document of admin.<from> (none if it is missing).
void copy_admin_collection(mongo::Client& client, const std::string& from, const std::string& to);

// Asks the server to merge the users in admin.<users> and the roles in admin.<roles> (either
// may be empty: not merged) into every database's users and roles. With `drop`, users and
// roles that are not in those collections are removed.
void merge_users_and_roles(mongo::Client& client, const std::string& users, const std::string& roles, bool drop);

}  // namespace shardsafe::dump

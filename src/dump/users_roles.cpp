#include "dump/users_roles.h"

#include <vector>

namespace shardsafe::dump {
namespace {

const mongo::Bson kMajority = mongo::BsonBuilder().append("w", "majority").build();

void insert_all(mongo::Client& client, const std::string& collection, const std::vector<mongo::Bson>& documents) {
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& document : documents) raw.push_back(document.bytes());
  client.insert_many("admin", collection, raw, /*ordered=*/true, kMajority);
}

}  // namespace

bool is_users_or_roles(const std::string& db, const std::string& collection) {
  return db == "admin" && (collection == "system.users" || collection == "system.roles");
}

void copy_admin_collection(mongo::Client& client, const std::string& from, const std::string& to) {
  client.command("admin", mongo::BsonBuilder().append("create", to).append("writeConcern", kMajority).build());
  // Users and roles are small (one document each): the copy is read whole.
  std::vector<mongo::Bson> documents;
  mongo::Cursor cursor = client.find("admin", from, mongo::Bson());
  while (const bson_t* document = cursor.next()) documents.push_back(mongo::Bson::copy_of(document));
  if (!documents.empty()) insert_all(client, to, documents);
}

void merge_users_and_roles(mongo::Client& client, const std::string& users, const std::string& roles, bool drop) {
  client.command("admin", mongo::BsonBuilder()
                              .append("_mergeAuthzCollections", 1)
                              .append("tempUsersCollection", users.empty() ? "" : "admin." + users)
                              .append("tempRolesCollection", roles.empty() ? "" : "admin." + roles)
                              .append("db", "")
                              .append("drop", drop)
                              .append("writeConcern", kMajority)
                              .build());
}

}  // namespace shardsafe::dump

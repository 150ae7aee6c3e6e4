#include "server/catalog.h"

namespace sandbox {

void validate_db_name(const std::string& db) {
  if (db.empty() || db.size() > 63 || db.find_first_of("/\\. \"$") != std::string::npos) {
    throw_error(73, "InvalidNamespace", "Invalid database name: '" + db + "'");
  }
}

void validate_collection_name(const std::string& coll) {
  if (coll.empty() || coll.find('\0') != std::string::npos ||
      (coll.find('$') != std::string::npos && coll != "oplog.$main" &&
       coll.rfind("$cmd", 0) != 0)) {
    throw_error(73, "InvalidNamespace", "Invalid collection name: '" + coll + "'");
  }
}

Namespace parse_namespace(const std::string& ns) {
  auto dot = ns.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == ns.size()) {
    throw_error(73, "InvalidNamespace", "Invalid namespace specified '" + ns + "'");
  }
  return {ns.substr(0, dot), ns.substr(dot + 1)};
}

Collection* Catalog::find(const std::string& db, const std::string& coll) const {
  auto database = databases_.find(db);
  if (database == databases_.end()) return nullptr;
  auto found = database->second.find(coll);
  return found == database->second.end() ? nullptr : found->second.get();
}

Catalog Catalog::snapshot() const {
  Catalog copy;
  for (const auto& [db, colls] : databases_) {
    if (db == "local") continue;
    for (const auto& [name, coll] : colls) copy.databases_[db][name] = std::make_unique<Collection>(*coll);
  }
  return copy;
}

Collection* Catalog::find_by_uuid(const Uuid& uuid) const {
  for (const auto& [db, colls] : databases_) {
    for (const auto& [name, coll] : colls) {
      if (coll->uuid() == uuid) return coll.get();
    }
  }
  return nullptr;
}

Collection& Catalog::require(const std::string& db, const std::string& coll) const {
  Collection* found = find(db, coll);
  if (found == nullptr) {
    throw_error(26, "NamespaceNotFound", "ns does not exist: " + db + "." + coll);
  }
  return *found;
}

Collection& Catalog::create(const std::string& db, const std::string& coll, const Uuid& uuid,
                            Doc options) {
  validate_db_name(db);
  validate_collection_name(coll);
  if (find(db, coll) != nullptr) {
    throw_error(48, "NamespaceExists", "Collection " + db + "." + coll + " already exists.");
  }
  auto created = std::make_unique<Collection>(db, coll, uuid, std::move(options));
  Collection& result = *created;
  databases_[db][coll] = std::move(created);
  return result;
}

void Catalog::drop(const std::string& db, const std::string& coll) {
  auto database = databases_.find(db);
  if (database == databases_.end()) return;
  database->second.erase(coll);
  if (database->second.empty()) databases_.erase(database);
}

void Catalog::drop_database(const std::string& db) { databases_.erase(db); }

void Catalog::rename(const Namespace& from, const Namespace& to) {
  validate_db_name(to.db);
  validate_collection_name(to.coll);
  auto database = databases_.find(from.db);
  if (database == databases_.end() || !database->second.contains(from.coll)) {
    throw_error(26, "NamespaceNotFound", "Source collection " + from.str() + " does not exist");
  }
  if (find(to.db, to.coll) != nullptr) {
    throw_error(48, "NamespaceExists", "target namespace exists");
  }
  std::unique_ptr<Collection> moved = std::move(database->second[from.coll]);
  database->second.erase(from.coll);
  if (database->second.empty()) databases_.erase(database);
  moved->rename(to.db, to.coll);
  databases_[to.db][to.coll] = std::move(moved);
}

std::vector<std::string> Catalog::database_names() const {
  std::vector<std::string> names;
  for (const auto& [db, colls] : databases_) names.push_back(db);
  return names;
}

std::vector<Collection*> Catalog::collections(const std::string& db) const {
  std::vector<Collection*> result;
  auto database = databases_.find(db);
  if (database == databases_.end()) return result;
  for (const auto& [name, coll] : database->second) result.push_back(coll.get());
  return result;
}

bool Catalog::has_database(const std::string& db) const { return databases_.contains(db); }

}  // namespace sandbox

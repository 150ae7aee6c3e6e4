// The databases and collections of one member. Names are validated here so every path
// (commands, applyOps, replication, journal replay) rejects the same bad names.
//
// Thread safety: none; the Engine's mutex guards the Catalog.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/collection.h"

namespace sandbox {

struct Namespace {
  std::string db;
  std::string coll;
  std::string str() const { return db + "." + coll; }
};

// Splits "db.coll" at the first dot; throws 73 InvalidNamespace when either part is empty.
Namespace parse_namespace(const std::string& ns);
void validate_db_name(const std::string& db);           // throws 73 InvalidNamespace
void validate_collection_name(const std::string& coll);  // throws 73 InvalidNamespace

class Catalog {
 public:
  Collection* find(const std::string& db, const std::string& coll) const;
  Collection* find_by_uuid(const Uuid& uuid) const;
  // Throws 26 NamespaceNotFound naming the namespace.
  Collection& require(const std::string& db, const std::string& coll) const;
  // Throws 48 NamespaceExists.
  Collection& create(const std::string& db, const std::string& coll, const Uuid& uuid,
                     Doc options);
  void drop(const std::string& db, const std::string& coll);  // no-op when absent
  void drop_database(const std::string& db);
  // Moves a collection (keeps its uuid, documents and indexes). The target must not exist.
  void rename(const Namespace& from, const Namespace& to);

  std::vector<std::string> database_names() const;
  std::vector<Collection*> collections(const std::string& db) const;
  bool has_database(const std::string& db) const;
  void clear() { databases_.clear(); }
  // A copy of every database but `local` (documents are shared, immutable records), for a
  // transaction's snapshot: the records it shares with the live catalog stay the same objects
  // until someone writes them, which is how write conflicts are detected.
  Catalog snapshot() const;

 private:
  std::map<std::string, std::map<std::string, std::unique_ptr<Collection>>> databases_;
};

}  // namespace sandbox

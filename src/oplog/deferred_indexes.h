// Index builds replay defers until the end, as mongorestore does.
//
// createIndexes and commitIndexBuild entries are not applied where they occur: the specs are
// collected here and built with one createIndexes per collection after the last entry, so data
// goes in without index maintenance. Later DDL in the oplog keeps the collected specs true:
// dropping or renaming a collection or database, dropping a collected index, and collMod of a
// collected index change the specs instead of reaching the server (the index is not there yet).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mongo/bson.h"

namespace shardsafe::oplog {

class DeferredIndexes {
 public:
  // Collects one index spec ({v, key, name, ...}) for "db.coll". A spec with the name of one
  // already collected replaces it.
  void add(const std::string& ns, const mongo::Bson& spec);
  void drop_collection(const std::string& ns);
  void drop_database(const std::string& db);
  // Moves the specs of `from` to `to`; the target's are dropped first (renameCollection with
  // dropTarget, or a target that did not exist).
  void rename_collection(const std::string& from, const std::string& to);

  // Applies a dropIndexes command ({dropIndexes, index: name | [names] | key pattern | "*"}) to
  // the collected specs. Returns the command still to send for indexes that were not collected
  // here (they existed before replay; "*" is always sent), or nullopt when nothing is left.
  std::optional<mongo::Bson> drop_indexes(const std::string& ns, const mongo::Bson& command);

  // Applies collMod's `index` document ({name|keyPattern, expireAfterSeconds?, hidden?, ...})
  // to a collected spec. Returns false when no collected spec matches (the index predates the
  // replay and the server must change it).
  bool modify_index(const std::string& ns, const mongo::Bson& change);

  // Collected specs per namespace, namespaces in sorted order, specs in the order collected.
  const std::map<std::string, std::vector<mongo::Bson>>& pending() const { return specs_; }

 private:
  // Removes the collected spec of `ns` that `index` (a name or a key pattern) designates.
  bool remove(const std::string& ns, const bson_iter_t& index);
  // The collected spec of `ns` that `index` designates, or nullptr.
  mongo::Bson* find(const std::string& ns, const bson_iter_t& index);

  std::map<std::string, std::vector<mongo::Bson>> specs_;
};

// The spec an oplog createIndexes command carries: the command without its createIndexes key
// (and without the legacy "ns" field, which servers since 4.4 reject).
mongo::Bson index_spec_from_create_indexes(const mongo::Bson& command);

}  // namespace shardsafe::oplog

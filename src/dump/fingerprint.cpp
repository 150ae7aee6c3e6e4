#include "dump/fingerprint.h"

#include <algorithm>

#include "dump/dumper.h"
#include "mongo/topology.h"
#include "storage/hash.h"

namespace shardsafe::dump {
namespace {

CollectionFingerprint fingerprint_collection(mongo::Client& client, const std::string& db, const std::string& name) {
  CollectionFingerprint out;

  storage::Digest hash(storage::DigestAlgorithm::kSha256);
  const mongo::Bson options = mongo::BsonBuilder().append("sort", mongo::BsonBuilder().append("_id", 1).build()).build();
  mongo::Cursor cursor = client.find(db, name, mongo::Bson(), options);
  while (const bson_t* document = cursor.next()) {
    hash.update({bson_get_data(document), document->len});
    out.documents++;
  }
  out.sha256 = hash.final_hex();
  mongo::Cursor indexes = client.command_cursor(
      db, mongo::BsonBuilder().append("listIndexes", name).append("cursor", mongo::Bson()).build());
  while (const bson_t* index = indexes.next()) out.indexes.push_back(mongo::Bson::copy_of(index).canonical_json());
  std::sort(out.indexes.begin(), out.indexes.end());
  return out;
}

}  // namespace

std::map<std::string, CollectionFingerprint> fingerprint(mongo::Client& client) {
  std::map<std::string, CollectionFingerprint> out;
  for (const auto& [db, entry] : mongo::list_all_collections(client)) {
    const mongo::BsonView view(entry);
    const std::string name = view.string("name").value_or("");
    if (!dump_includes(db, name) || (db == "admin" && name.starts_with("system."))) continue;
    CollectionFingerprint print;
    if (view.string("type").value_or("collection") == "collection") print = fingerprint_collection(client, db, name);
    print.options = view.document("options").value_or(mongo::Bson()).canonical_json();
    out[db + "." + name] = std::move(print);
  }
  return out;
}

std::map<std::string, CollectionFingerprint> fingerprint_cluster(const mongo::Uri& mongos) {
  std::map<std::string, CollectionFingerprint> all;
  auto add = [&](const std::string& where, const mongo::Uri& uri) {
    mongo::Client client(uri);
    for (auto& [ns, print] : fingerprint(client)) {
      if (!ns.starts_with("config.")) all[where + " " + ns] = std::move(print);
    }
  };
  add("mongos", mongos);
  for (const auto& shard : mongo::discover_cluster(mongos).shards) add(shard.id, shard.uri);
  return all;
}

}  // namespace shardsafe::dump

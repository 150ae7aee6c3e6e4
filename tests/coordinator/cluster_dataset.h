// Data for cluster tests: a collection sharded over both shards of a 2-shard cluster, an
// unsharded one on the database's primary shard, and one in a second database.
#pragma once

#include <string>
#include <vector>

#include "mongo/client.h"

namespace shardsafe::testing {

inline void run(mongo::Client& client, const std::string& db, const std::string& json) {
  client.command(db, mongo::Bson::from_json(json));
}

inline void insert_documents(mongo::Client& client, const std::string& db, const std::string& collection,
                             const std::vector<mongo::Bson>& documents) {
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& document : documents) raw.push_back(document.bytes());
  client.insert_many(db, collection, raw, true, mongo::BsonBuilder().append("w", "majority").build());
}

// The shard that does not hold database `db`'s unsharded collections.
inline std::string other_shard(mongo::Client& mongos, const std::string& db, const std::vector<std::string>& shards) {
  mongo::Cursor cursor = mongos.find("config", "databases", mongo::BsonBuilder().append("_id", db).build());
  const bson_t* entry = cursor.next();
  const std::string primary = entry ? mongo::BsonView(entry).string("primary").value_or("") : "";
  return primary == shards.at(0) ? shards.at(1) : shards.at(0);
}

// shop.orders sharded on _id (ids 0..documents-1, the upper half on the other shard),
// shop.customers unsharded, metrics.events in a second database.
inline void load_cluster_dataset(mongo::Client& mongos, const std::vector<std::string>& shards, int documents) {
  run(mongos, "admin", R"({"enableSharding": "shop"})");
  run(mongos, "admin", R"({"shardCollection": "shop.orders", "key": {"_id": 1}})");
  run(mongos, "admin", R"({"split": "shop.orders", "middle": {"_id": )" + std::to_string(documents / 2) + "}}");
  run(mongos, "admin", R"({"moveChunk": "shop.orders", "find": {"_id": )" + std::to_string(documents - 1) + R"(}, "to": ")" +
                           other_shard(mongos, "shop", shards) + R"("})");
  std::vector<mongo::Bson> orders, customers, events;
  for (int i = 0; i < documents; ++i) {
    orders.push_back(mongo::BsonBuilder().append("_id", i).append("total", i * 1.5).append("note", std::string(100, 'x')).build());
  }
  for (int i = 0; i < 100; ++i) customers.push_back(mongo::BsonBuilder().append("_id", i).append("name", "c" + std::to_string(i)).build());
  for (int i = 0; i < 50; ++i) events.push_back(mongo::BsonBuilder().append("_id", i).append("kind", "view").build());
  insert_documents(mongos, "shop", "orders", orders);
  insert_documents(mongos, "shop", "customers", customers);
  insert_documents(mongos, "metrics", "events", events);
  run(mongos, "shop", R"({"createIndexes": "orders", "indexes": [{"key": {"total": -1}, "name": "total"}]})");
}

// Changes every collection of the dataset: what a restore must undo.
inline void damage_cluster_dataset(mongo::Client& mongos) {
  run(mongos, "shop", R"({"update": "orders", "updates": [{"q": {}, "u": {"$set": {"total": -1}}, "multi": true}]})");
  run(mongos, "shop", R"({"delete": "customers", "deletes": [{"q": {"_id": {"$lt": 50}}, "limit": 0}]})");
  run(mongos, "metrics", R"({"drop": "events"})");
}

}  // namespace shardsafe::testing

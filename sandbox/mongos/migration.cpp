// Chunk migration, the way the router does it here: with the namespace locked against this
// router's own operations, copy the chunk's documents to the recipient (creating the
// collection and its indexes there first), commit the new owner to config.chunks, then delete
// the documents from the donor. A failure before the commit leaves the donor authoritative
// (copies on the recipient are orphans outside its chunks); after it, the recipient is.
#include "mongos/targeting.h"
#include "server/log.h"

namespace sandbox::mongos {
namespace {

constexpr std::size_t kCopyBatchCount = 5000;
constexpr std::size_t kCopyBatchBytes = 8 * 1024 * 1024;

struct Namespace {
  std::string db;
  std::string collection;
};

Namespace split_ns(const std::string& ns) {
  auto dot = ns.find('.');
  return {ns.substr(0, dot), ns.substr(dot + 1)};
}

// Creates the collection and its secondary indexes on the recipient, as the donor has them.
void prepare_recipient(RemoteSet& donor, RemoteSet& recipient, const Namespace& ns) {
  Builder create;
  BSON_APPEND_UTF8(create.get(), "create", ns.collection.c_str());
  Doc created = recipient.run(ns.db, create.get());
  if (!is_ok(created) && get_number(created.bson(), "code").value_or(0) != 48) {  // 48 NamespaceExists
    recipient.run_checked(ns.db, create.get());
  }
  Builder list;
  BSON_APPEND_UTF8(list.get(), "listIndexes", ns.collection.c_str());
  Builder indexes;
  int count = 0;
  for (const Doc& index : read_all(donor, ns.db, list.get())) {
    if (get_string(index.bson(), "name").value_or("") == "_id_") continue;
    Builder spec;
    bson_iter_t iter;
    bson_iter_init(&iter, index.bson());
    while (bson_iter_next(&iter)) {
      if (std::string_view(bson_iter_key(&iter)) != "v" && std::string_view(bson_iter_key(&iter)) != "ns") {
        append_iter(spec.get(), bson_iter_key(&iter), &iter);
      }
    }
    std::string position = std::to_string(count++);
    BSON_APPEND_DOCUMENT(indexes.get(), position.c_str(), spec.get());
  }
  if (count == 0) return;
  Builder command;
  BSON_APPEND_UTF8(command.get(), "createIndexes", ns.collection.c_str());
  BSON_APPEND_ARRAY(command.get(), "indexes", indexes.get());
  recipient.run_checked(ns.db, command.get());
}

// The donor's documents whose shard key lies in [min, max).
std::vector<Doc> chunk_documents(RemoteSet& donor, const Namespace& ns, const CollectionRouting& routing,
                                 const Chunk& chunk) {
  Builder find;
  BSON_APPEND_UTF8(find.get(), "find", ns.collection.c_str());
  std::vector<Doc> inside;
  for (Doc& doc : read_all(donor, ns.db, find.get())) {
    Doc key = extract_key(doc.bson(), routing.key_pattern.bson());
    if (compare_keys(key.bson(), chunk.min.bson()) >= 0 && compare_keys(key.bson(), chunk.max.bson()) < 0) {
      inside.push_back(std::move(doc));
    }
  }
  return inside;
}

void check_write(const Doc& reply, const std::string& what) {
  if (!is_ok(reply) || get_document(reply.bson(), "writeErrors") || get_document(reply.bson(), "writeConcernError")) {
    throw CommandError(96, "OperationFailed", "chunk migration failed to " + what + ": " + json(reply.bson()));
  }
}

void append_majority(bson_t* command) {
  bson_t concern;
  BSON_APPEND_DOCUMENT_BEGIN(command, "writeConcern", &concern);
  BSON_APPEND_UTF8(&concern, "w", "majority");
  bson_append_document_end(command, &concern);
}

// Inserts (kind "documents") or deletes by _id (kind "deletes") in batches.
void write_in_batches(RemoteSet& set, const Namespace& ns, const std::vector<Doc>& docs, bool insert) {
  std::size_t start = 0;
  while (start < docs.size()) {
    Builder command, items;
    BSON_APPEND_UTF8(command.get(), insert ? "insert" : "delete", ns.collection.c_str());
    std::size_t count = 0, bytes = 0;
    for (; start < docs.size() && count < kCopyBatchCount && bytes < kCopyBatchBytes; ++start, ++count) {
      std::string index = std::to_string(count);
      bytes += docs[start].size();
      if (insert) {
        BSON_APPEND_DOCUMENT(items.get(), index.c_str(), docs[start].bson());
      } else {
        Builder statement, filter;
        bson_iter_t id;
        if (bson_iter_init_find(&id, docs[start].bson(), "_id")) append_iter(filter.get(), "_id", &id);
        append_doc(statement.get(), "q", filter.get());
        BSON_APPEND_INT32(statement.get(), "limit", 1);
        BSON_APPEND_DOCUMENT(items.get(), index.c_str(), statement.get());
      }
    }
    BSON_APPEND_ARRAY(command.get(), insert ? "documents" : "deletes", items.get());
    BSON_APPEND_BOOL(command.get(), "ordered", false);
    append_majority(command.get());
    check_write(set.run(ns.db, command.get()), insert ? "copy documents to the recipient" : "delete moved documents");
  }
}

// config.chunks: the chunk now lives on `to`, with a new major version.
void commit_move(Router& router, const CollectionRouting& routing, const Chunk& chunk, const std::string& to) {
  Timestamp now = router.config().next_timestamp();
  Timestamp version = routing.version();
  Builder set, history_entry, history, update;
  BSON_APPEND_UTF8(set.get(), "shard", to.c_str());
  append_timestamp(set.get(), "lastmod", Timestamp{version.secs + 1, 0});
  append_timestamp(set.get(), "onCurrentShardSince", now);
  append_timestamp(history_entry.get(), "validAfter", now);
  BSON_APPEND_UTF8(history_entry.get(), "shard", to.c_str());
  BSON_APPEND_DOCUMENT(history.get(), "0", history_entry.get());
  if (auto previous = get_document(chunk.entry.bson(), "history")) {
    bson_iter_t iter;
    bson_iter_init(&iter, previous->bson());
    for (int i = 1; bson_iter_next(&iter); ++i) append_iter(history.get(), std::to_string(i), &iter);
  }
  BSON_APPEND_ARRAY(set.get(), "history", history.get());
  append_doc(update.get(), "$set", set.get());
  router.config().update("chunks", chunk.id.bson(), update.get(), false);
}

}  // namespace

void move_chunk(Router& router, const std::string& ns_text, const Doc& chunk_min, const std::string& to_shard) {
  auto lock = router.lock_exclusive(ns_text);
  auto routing = router.config().collection(ns_text);  // re-read under the lock
  if (!routing) throw CommandError(118, "NamespaceNotSharded", ns_text + " is not sharded");
  const Chunk& chunk = routing->chunk_for(chunk_min.bson());
  if (chunk.shard == to_shard) return;  // already there
  Namespace ns = split_ns(ns_text);
  auto donor = router.shard(chunk.shard);
  auto recipient = router.shard(to_shard);
  prepare_recipient(*donor, *recipient, ns);
  std::vector<Doc> docs = chunk_documents(*donor, ns, *routing, chunk);
  write_in_batches(*recipient, ns, docs, true);
  commit_move(router, *routing, chunk, to_shard);
  write_in_batches(*donor, ns, docs, false);
  log_line("moved chunk " + json(chunk.min.bson()) + " of " + ns_text + " (" + std::to_string(docs.size()) +
           " documents) from " + chunk.shard + " to " + to_shard);
}

}  // namespace sandbox::mongos

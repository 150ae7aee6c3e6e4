// RAII over libmongoc: URIs, clients, pools, commands, cursors and bulk inserts.
//
// Every libmongoc handle is owned by one of these classes. Errors become shardsafe errors:
// a server's {ok:0} reply is a ServerError with its code and codeName; failing to reach or select
// a server is Error(kConnection). Messages name the URI with its password redacted.
//
// Thread safety: a Client (like mongoc_client_t) is used by one thread at a time; a ClientPool
// is shared by all threads, each of which acquires its own Client.
#pragma once

#include <mongoc/mongoc.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mongo/bson.h"

namespace shardsafe::mongo {

// Where reads go. Primary unless the user asked otherwise (e.g. --read-preference secondary).
enum class ReadPreference { kPrimary, kPrimaryPreferred, kSecondary, kSecondaryPreferred, kNearest };
ReadPreference parse_read_preference(const std::string& mode);  // throws kInvalidArgument

// A parsed MongoDB connection string. Throws Error(kBadUri) naming the (redacted) URI.
class Uri {
 public:
  explicit Uri(const std::string& uri);
  Uri(const Uri& other) : Uri(other.original_) {}
  Uri& operator=(const Uri& other) { return *this = Uri(other.original_); }
  Uri(Uri&&) noexcept = default;
  Uri& operator=(Uri&&) noexcept = default;
  const mongoc_uri_t* get() const { return uri_.get(); }
  std::string redacted() const { return redacted_; }
  // The URI as given, credentials included: to hand to an agent's job, never to print or log.
  const std::string& secret_text() const { return original_; }
  std::optional<std::string> replica_set() const;
  std::vector<std::string> hosts() const;  // "host:port" of the seed list
  // The same credentials and options with another seed list: a replica set's members when
  // `replica_set` is given, else the first host alone with directConnection=true.
  Uri with_hosts(const std::vector<std::string>& hosts, const std::string& replica_set) const;
  // One member only, whatever its state: with_hosts({host}, "").
  Uri direct_to(const std::string& host) const { return with_hosts({host}, ""); }

 private:
  struct Deleter {
    void operator()(mongoc_uri_t* uri) const { mongoc_uri_destroy(uri); }
  };
  std::unique_ptr<mongoc_uri_t, Deleter> uri_;
  std::string original_;  // kept to derive direct_to(); never printed
  std::string redacted_;
};

// Iterates a server cursor. Documents are valid until the next call to next().
class Cursor {
 public:
  explicit Cursor(mongoc_cursor_t* cursor, std::string what);
  // The next document, or nullptr at the end. Throws on a server or network error.
  const bson_t* next();

 private:
  struct Deleter {
    void operator()(mongoc_cursor_t* cursor) const { mongoc_cursor_destroy(cursor); }
  };
  std::unique_ptr<mongoc_cursor_t, Deleter> cursor_;
  std::string what_;  // for messages: "find on \"db.coll\""
};

struct InsertResult {
  std::int64_t inserted = 0;
  std::vector<Bson> write_errors;  // {index, code, errmsg}; only with ordered = false
};

// An unordered batch of inserts, built without a connection and sent later by any Client: the
// restore's reader fills batches while its insertion workers send them. Each document is
// copied once, into the command libmongoc will send.
class InsertBatch {
 public:
  // `majority`: the insert waits for w:"majority".
  InsertBatch(std::string db, std::string collection, bool majority);
  // Throws Error(kCorruptData) when `document` is not valid BSON.
  void add(std::span<const std::uint8_t> document);
  std::size_t documents() const { return documents_; }
  std::size_t bytes() const { return bytes_; }
  std::string ns() const { return db_ + "." + collection_; }

 private:
  friend class Client;
  struct Deleter {
    void operator()(mongoc_bulk_operation_t* bulk) const { mongoc_bulk_operation_destroy(bulk); }
  };
  std::unique_ptr<mongoc_bulk_operation_t, Deleter> bulk_;
  std::string db_;
  std::string collection_;
  std::size_t documents_ = 0;
  std::size_t bytes_ = 0;
};

class Client {
 public:
  explicit Client(const Uri& uri);

  // Runs a command and returns the reply. Throws ServerError on {ok:0}, Error(kConnection) when
  // no suitable server can be reached.
  Bson command(const std::string& db, const Bson& command,
               ReadPreference read_preference = ReadPreference::kPrimary);
  // Runs a command in a session whose cluster time is first advanced to `cluster_time`, a
  // $clusterTime document that a node of the same deployment sent (signed when auth is on):
  // the server's logical clock moves up to it, so whatever the command writes is ordered after
  // that time, as the drivers' causal consistency does it.
  Bson command_after(const std::string& db, const Bson& command, const Bson& cluster_time);
  // Runs a command whose reply holds a cursor (find, aggregate, listCollections, ...).
  Cursor command_cursor(const std::string& db, const Bson& command,
                        ReadPreference read_preference = ReadPreference::kPrimary);
  Cursor find(const std::string& db, const std::string& collection, const Bson& filter,
              const Bson& options = {}, ReadPreference read_preference = ReadPreference::kPrimary);
  // Inserts documents given as raw BSON (no copies). `write_concern` is e.g. {w:"majority"}.
  InsertResult insert_many(const std::string& db, const std::string& collection,
                           const std::vector<std::span<const std::uint8_t>>& documents, bool ordered,
                           const Bson& write_concern = {});
  // Sends `batch`; a batch is sent once. Write errors are returned, not thrown.
  InsertResult insert(InsertBatch& batch);

  mongoc_client_t* get() { return client_.get(); }
  const std::string& redacted_uri() const { return redacted_uri_; }

 private:
  friend class ClientPool;
  // A pooled client goes back to its pool; a standalone one is destroyed.
  struct Releaser {
    mongoc_client_pool_t* pool = nullptr;
    void operator()(mongoc_client_t* client) const;
  };
  Client(std::unique_ptr<mongoc_client_t, Releaser> client, std::string redacted_uri);
  struct SessionDeleter {
    void operator()(mongoc_client_session_t* session) const { mongoc_client_session_destroy(session); }
  };
  struct CollectionDeleter {
    void operator()(mongoc_collection_t* collection) const { mongoc_collection_destroy(collection); }
  };
  std::unique_ptr<mongoc_collection_t, CollectionDeleter> collection_handle(const std::string& db,
                                                                           const std::string& collection);

  std::unique_ptr<mongoc_client_t, Releaser> client_;
  std::string redacted_uri_;
};

// A pool of clients for one deployment, for parallel work (collections dumped in parallel).
class ClientPool {
 public:
  explicit ClientPool(const Uri& uri, int max_size = 16);
  // Blocks while all clients are in use. REQUIRES: the pool outlives the client.
  Client acquire();

 private:
  struct Deleter {
    void operator()(mongoc_client_pool_t* pool) const { mongoc_client_pool_destroy(pool); }
  };
  std::unique_ptr<mongoc_client_pool_t, Deleter> pool_;
  std::string redacted_uri_;
};

// Turns a libmongoc error into the shardsafe error it means. `context` says what was attempted.
[[noreturn]] void throw_mongoc_error(const bson_error_t& error, const bson_t* reply, const std::string& context);

}  // namespace shardsafe::mongo

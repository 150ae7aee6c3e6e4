// The router's client side: RAII over libmongoc for the replica sets mongos talks to (the
// config server and every shard). Every command goes to the set's primary, found and followed
// across elections by libmongoc's server discovery.
//
// Thread safety: a RemoteSet is shared by all threads (it owns a libmongoc client pool); a
// RemoteCursor is used by one thread at a time.
#pragma once

#include <mongoc/mongoc.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "query/document.h"

namespace sandbox::mongos {

// A replica set named by a connection string in MongoDB's shard form "rs/h1:p,h2:p".
struct SetAddress {
  std::string name;                // the replica set name
  std::vector<std::string> hosts;  // "host:port"
  std::string to_string() const;   // "rs/h1:p,h2:p"
  std::string uri() const;         // "mongodb://h1:p,h2:p/?replicaSet=rs"
};
// Parses "rs/h1:p,h2:p"; throws CommandError 2 BadValue naming the text when malformed.
SetAddress parse_set_address(const std::string& text);

class RemoteSet {
 public:
  explicit RemoteSet(SetAddress address);
  RemoteSet(const RemoteSet&) = delete;
  RemoteSet& operator=(const RemoteSet&) = delete;

  const SetAddress& address() const { return address_; }

  // Runs `command` on the primary and returns the reply as the server sent it (ok:1 or ok:0).
  // Throws CommandError 6 HostUnreachable when no primary answers (network, selection timeout).
  Doc run(const std::string& db, const bson_t* command);
  // Like run(), but an {ok:0} reply throws it as a CommandError (its code, codeName, errmsg).
  Doc run_checked(const std::string& db, const bson_t* command);

  // The id of the server `prefs` selects (null prefs: the primary), for commands that must
  // reach the same server (getMore).
  std::uint32_t select_server(const mongoc_read_prefs_t* prefs = nullptr);
  // "host:port" of the primary, for a caller that talks to it without libmongoc (a transaction's
  // statements carry the client's own lsid, which libmongoc would replace with its own).
  std::string primary_host();
  // Runs `command` on that server, with `prefs` telling a secondary that it may answer.
  Doc run_on(std::uint32_t server_id, const std::string& db, const bson_t* command,
             const mongoc_read_prefs_t* prefs = nullptr);

 private:
  class Lease;  // a client borrowed from the pool, returned on destruction
  struct UriDeleter {
    void operator()(mongoc_uri_t* uri) const { mongoc_uri_destroy(uri); }
  };
  struct PoolDeleter {
    void operator()(mongoc_client_pool_t* pool) const { mongoc_client_pool_destroy(pool); }
  };
  SetAddress address_;
  std::unique_ptr<mongoc_uri_t, UriDeleter> uri_;
  std::unique_ptr<mongoc_client_pool_t, PoolDeleter> pool_;  // declared last: destroyed first
};

struct ReadPrefsDeleter {
  void operator()(mongoc_read_prefs_t* prefs) const { mongoc_read_prefs_destroy(prefs); }
};
using ReadPrefs = std::unique_ptr<mongoc_read_prefs_t, ReadPrefsDeleter>;
// A client's $readPreference ({mode, ...}; tags and staleness are not honoured); null for an
// absent one or mode primary. Throws 9 FailedToParse for an unknown mode.
ReadPrefs parse_read_preference(const bson_t* read_preference);

// A cursor opened on one server by a command whose reply holds {cursor:{id, ns, firstBatch}}.
// Documents are fetched batch by batch with getMore on that same server.
class RemoteCursor {
 public:
  // Runs `command` (find, aggregate, listIndexes...) on the member of `set` that the client's
  // `read_preference` selects (null: the primary); an {ok:0} reply throws it as a CommandError.
  RemoteCursor(std::shared_ptr<RemoteSet> set, const std::string& db, const bson_t* command,
               const bson_t* read_preference = nullptr);
  ~RemoteCursor();  // kills the server cursor if it is still open
  RemoteCursor(const RemoteCursor&) = delete;
  RemoteCursor& operator=(const RemoteCursor&) = delete;

  // The next document, fetching a batch when the buffer is empty; nullptr at the end.
  // The pointer is valid until the next call.
  const Doc* next();
  // The next document without consuming it; nullptr at the end.
  const Doc* peek();

 private:
  void fetch_more();
  void take_batch(const Doc& reply, const char* batch_field);

  std::shared_ptr<RemoteSet> set_;  // shared: a cursor outlives a shard registry refresh
  ReadPrefs prefs_;
  std::uint32_t server_id_;
  std::string db_;
  std::string collection_;
  std::int64_t cursor_id_ = 0;
  std::deque<Doc> buffer_;
  Doc current_;
};

// Reads every document of a cursor command's result.
std::vector<Doc> read_all(RemoteSet& set, const std::string& db, const bson_t* command);

}  // namespace sandbox::mongos

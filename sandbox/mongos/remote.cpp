#include "mongos/remote.h"

#include <chrono>
#include <thread>

#include "mongos/cluster_clock.h"
#include "server/bson_util.h"
#include "server/cluster_time.h"
#include "server/peer.h"

namespace sandbox::mongos {
namespace {

using namespace std::chrono_literals;

// How long a command keeps retrying while a set has no primary (an election takes ~10 s).
constexpr auto kPrimaryWait = 20s;

// Replies that mean "this server is not (or no longer) the primary": the command did not run,
// so sending it again to the new primary is safe.
bool is_not_primary_reply(const bson_t* reply) {
  auto code = get_number(reply, "code");
  if (!code) return false;
  switch (*code) {
    case 10107:  // NotWritablePrimary
    case 13435:  // NotPrimaryNoSecondaryOk
    case 13436:  // NotPrimaryOrSecondary
    case 189:    // PrimarySteppedDown
    case 11602:  // InterruptedDueToReplStateChange
      return true;
    default:
      return false;
  }
}

[[noreturn]] void throw_unreachable(const SetAddress& address, const bson_error_t& error) {
  throw CommandError(6, "HostUnreachable", "cannot reach the primary of " + address.name + ": " + error.message);
}

// Server selection failed or the connection broke before a reply: nothing came back.
bool has_reply(const bson_t* reply) { return find_field(reply, "ok").has_value(); }

struct SessionDeleter {
  void operator()(mongoc_client_session_t* session) const { mongoc_client_session_destroy(session); }
};
using Session = std::unique_ptr<mongoc_client_session_t, SessionDeleter>;

// A session advanced to the router's cluster time: libmongoc then sends the greater of it and
// what the set last told it as $clusterTime, so the set's clock moves past every time this
// router has seen. (A $clusterTime in the command itself would be sent twice.) No session when
// the router knows no time yet or no server is known to support sessions.
Session session_at_cluster_time(mongoc_client_t* client) {
  Timestamp now = ClusterClock::instance().now();
  if (now.is_null()) return nullptr;
  Session session(mongoc_client_start_session(client, nullptr, nullptr));
  if (session) mongoc_client_session_advance_cluster_time(session.get(), cluster_time_document(now).bson());
  return session;
}

// Runs `command` on the server `server_id` (0: the primary) with the router's cluster time, and
// gossips the reply's times back. `reply` must be uninitialized; it always is afterwards.
void send_command(mongoc_client_t* client, const std::string& db, const bson_t* command, std::uint32_t server_id,
                  const mongoc_read_prefs_t* prefs, bson_t* reply, bson_error_t* error) {
  Session session = session_at_cluster_time(client);
  Builder opts;
  if (session) mongoc_client_session_append(session.get(), opts.get(), nullptr);
  if (server_id != 0) BSON_APPEND_INT32(opts.get(), "serverId", static_cast<std::int32_t>(server_id));
  mongoc_client_command_with_opts(client, db.c_str(), command, prefs, opts.get(), reply, error);
  if (has_reply(reply)) gossip_reply(reply);
}

}  // namespace

std::string SetAddress::to_string() const {
  std::string text = name + "/";
  for (std::size_t i = 0; i < hosts.size(); ++i) text += (i ? "," : "") + hosts[i];
  return text;
}

std::string SetAddress::uri() const {
  std::string text = "mongodb://";
  for (std::size_t i = 0; i < hosts.size(); ++i) text += (i ? "," : "") + hosts[i];
  // retryWrites off: the router decides itself what is safe to send twice.
  return text + "/?replicaSet=" + name + "&retryWrites=false&retryReads=false&serverSelectionTimeoutMS=15000" +
         "&connectTimeoutMS=2000";
}

SetAddress parse_set_address(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= text.size()) {
    throw CommandError(2, "BadValue", "'" + text + "' is not a replica set connection string (expected name/host:port,...)");
  }
  SetAddress address{text.substr(0, slash), {}};
  std::string rest = text.substr(slash + 1);
  std::size_t start = 0;
  while (start <= rest.size()) {
    std::size_t comma = rest.find(',', start);
    std::string host = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (host.empty() || host.find(':') == std::string::npos) {
      throw CommandError(2, "BadValue", "'" + text + "' has an empty or port-less host");
    }
    address.hosts.push_back(host);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return address;
}

class RemoteSet::Lease {
 public:
  explicit Lease(mongoc_client_pool_t* pool) : pool_(pool), client_(mongoc_client_pool_pop(pool)) {}
  ~Lease() { mongoc_client_pool_push(pool_, client_); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  mongoc_client_t* get() const { return client_; }

 private:
  mongoc_client_pool_t* pool_;
  mongoc_client_t* client_;
};

RemoteSet::RemoteSet(SetAddress address) : address_(std::move(address)) {
  bson_error_t error;
  uri_.reset(mongoc_uri_new_with_error(address_.uri().c_str(), &error));
  if (!uri_) throw CommandError(2, "BadValue", "bad address " + address_.to_string() + ": " + error.message);
  pool_.reset(mongoc_client_pool_new(uri_.get()));
  mongoc_client_pool_set_error_api(pool_.get(), MONGOC_ERROR_API_VERSION_2);
  mongoc_client_pool_set_appname(pool_.get(), "shardsafe-sandbox-mongos");
}

Doc RemoteSet::run(const std::string& db, const bson_t* command) {
  auto deadline = std::chrono::steady_clock::now() + kPrimaryWait;
  while (true) {
    Builder reply;
    bson_error_t error;
    {
      Lease client(pool_.get());
      bson_destroy(reply.get());  // the command initializes the reply itself
      send_command(client.get(), db, command, 0, nullptr, reply.get(), &error);
    }
    bool retry = !has_reply(reply.get()) ? error.domain == MONGOC_ERROR_SERVER_SELECTION
                                         : is_not_primary_reply(reply.get());
    if (!retry || std::chrono::steady_clock::now() > deadline) {
      if (!has_reply(reply.get())) throw_unreachable(address_, error);
      return reply.doc();
    }
    std::this_thread::sleep_for(200ms);
  }
}

Doc RemoteSet::run_checked(const std::string& db, const bson_t* command) {
  Doc reply = run(db, command);
  if (!is_ok(reply)) {
    throw CommandError(static_cast<int>(get_number(reply.bson(), "code").value_or(8)),
                       get_string(reply.bson(), "codeName").value_or("UnknownError"),
                       address_.name + ": " + get_string(reply.bson(), "errmsg").value_or("command failed"));
  }
  return reply;
}

std::uint32_t RemoteSet::select_server(const mongoc_read_prefs_t* prefs) {
  Lease client(pool_.get());
  bson_error_t error;
  mongoc_server_description_t* server = mongoc_client_select_server(client.get(), prefs == nullptr, prefs, &error);
  if (!server) throw_unreachable(address_, error);
  std::uint32_t id = mongoc_server_description_id(server);
  mongoc_server_description_destroy(server);
  return id;
}

std::string RemoteSet::primary_host() {
  Lease client(pool_.get());
  bson_error_t error;
  mongoc_server_description_t* server = mongoc_client_select_server(client.get(), true, nullptr, &error);
  if (!server) throw_unreachable(address_, error);
  std::string host = mongoc_server_description_host(server)->host_and_port;
  mongoc_server_description_destroy(server);
  return host;
}

Doc RemoteSet::run_on(std::uint32_t server_id, const std::string& db, const bson_t* command,
                      const mongoc_read_prefs_t* prefs) {
  Builder reply;
  bson_error_t error;
  {
    Lease client(pool_.get());
    bson_destroy(reply.get());
    send_command(client.get(), db, command, server_id, prefs, reply.get(), &error);
  }
  if (!has_reply(reply.get())) throw_unreachable(address_, error);
  return reply.doc();
}

ReadPrefs parse_read_preference(const bson_t* read_preference) {
  static constexpr std::pair<std::string_view, mongoc_read_mode_t> kModes[] = {
      {"primaryPreferred", MONGOC_READ_PRIMARY_PREFERRED},
      {"secondary", MONGOC_READ_SECONDARY},
      {"secondaryPreferred", MONGOC_READ_SECONDARY_PREFERRED},
      {"nearest", MONGOC_READ_NEAREST}};
  if (read_preference == nullptr) return nullptr;
  std::string mode = get_string(read_preference, "mode").value_or("primary");
  if (mode == "primary") return nullptr;
  for (const auto& [name, read_mode] : kModes) {
    if (name == mode) return ReadPrefs(mongoc_read_prefs_new(read_mode));
  }
  throw CommandError(9, "FailedToParse", "unknown read preference mode '" + mode + "'");
}

RemoteCursor::RemoteCursor(std::shared_ptr<RemoteSet> set, const std::string& db, const bson_t* command,
                           const bson_t* read_preference)
    : set_(std::move(set)), prefs_(parse_read_preference(read_preference)), server_id_(set_->select_server(prefs_.get())),
      db_(db) {
  Doc reply = set_->run_on(server_id_, db, command, prefs_.get());
  if (is_not_primary_reply(reply.bson())) {
    // Not primary (or secondary) any more (an election): start over on a newly selected member once.
    server_id_ = set_->select_server(prefs_.get());
    reply = set_->run_on(server_id_, db, command, prefs_.get());
  }
  if (!is_ok(reply)) {
    throw CommandError(static_cast<int>(get_number(reply.bson(), "code").value_or(8)),
                       get_string(reply.bson(), "codeName").value_or("UnknownError"),
                       get_string(reply.bson(), "errmsg").value_or("command failed"));
  }
  take_batch(reply, "firstBatch");
}

RemoteCursor::~RemoteCursor() {
  if (cursor_id_ == 0) return;
  try {
    Builder kill;
    BSON_APPEND_UTF8(kill.get(), "killCursors", collection_.c_str());
    bson_t ids;
    BSON_APPEND_ARRAY_BEGIN(kill.get(), "cursors", &ids);
    BSON_APPEND_INT64(&ids, "0", cursor_id_);
    bson_append_array_end(kill.get(), &ids);
    set_->run_on(server_id_, db_, kill.get(), prefs_.get());
  } catch (const std::exception&) {
    // The server is gone: so is its cursor.
  }
}

void RemoteCursor::take_batch(const Doc& reply, const char* batch_field) {
  auto cursor = get_document(reply.bson(), "cursor");
  if (!cursor) throw CommandError(8, "UnknownError", set_->address().name + " sent a cursor reply without 'cursor'");
  cursor_id_ = get_number(cursor->bson(), "id").value_or(0);
  std::string ns = get_string(cursor->bson(), "ns").value_or("");
  if (auto dot = ns.find('.'); dot != std::string::npos) collection_ = ns.substr(dot + 1);
  bson_iter_t iter, batch;
  if (bson_iter_init_find(&iter, cursor->bson(), batch_field) && BSON_ITER_HOLDS_ARRAY(&iter) &&
      bson_iter_recurse(&iter, &batch)) {
    while (bson_iter_next(&batch)) {
      if (BSON_ITER_HOLDS_DOCUMENT(&batch)) buffer_.push_back(iter_document(&batch));
    }
  }
}

void RemoteCursor::fetch_more() {
  while (buffer_.empty() && cursor_id_ != 0) {
    Builder get_more;
    BSON_APPEND_INT64(get_more.get(), "getMore", cursor_id_);
    BSON_APPEND_UTF8(get_more.get(), "collection", collection_.c_str());
    Doc reply = set_->run_on(server_id_, db_, get_more.get(), prefs_.get());
    if (!is_ok(reply)) {
      cursor_id_ = 0;
      throw CommandError(static_cast<int>(get_number(reply.bson(), "code").value_or(8)),
                         get_string(reply.bson(), "codeName").value_or("UnknownError"),
                         set_->address().name + ": " + get_string(reply.bson(), "errmsg").value_or("getMore failed"));
    }
    take_batch(reply, "nextBatch");
  }
}

const Doc* RemoteCursor::peek() {
  fetch_more();
  return buffer_.empty() ? nullptr : &buffer_.front();
}

const Doc* RemoteCursor::next() {
  if (!peek()) return nullptr;
  current_ = std::move(buffer_.front());
  buffer_.pop_front();
  return &current_;
}

std::vector<Doc> read_all(RemoteSet& set, const std::string& db, const bson_t* command) {
  // Non-owning: the cursor does not outlive this call.
  RemoteCursor cursor(std::shared_ptr<RemoteSet>(std::shared_ptr<void>(), &set), db, command);
  std::vector<Doc> out;
  while (const Doc* doc = cursor.next()) out.push_back(*doc);
  return out;
}

}  // namespace sandbox::mongos

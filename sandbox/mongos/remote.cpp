#include "mongos/remote.h"

#include <chrono>
#include <thread>

#include "server/bson_util.h"
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
      bson_destroy(reply.get());  // command_simple initializes the reply itself
      mongoc_client_command_simple(client.get(), db.c_str(), command, nullptr, reply.get(), &error);
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

std::uint32_t RemoteSet::primary_server_id() {
  Lease client(pool_.get());
  bson_error_t error;
  mongoc_server_description_t* server = mongoc_client_select_server(client.get(), true, nullptr, &error);
  if (!server) throw_unreachable(address_, error);
  std::uint32_t id = mongoc_server_description_id(server);
  mongoc_server_description_destroy(server);
  return id;
}

Doc RemoteSet::run_on(std::uint32_t server_id, const std::string& db, const bson_t* command) {
  Builder reply;
  bson_error_t error;
  {
    Lease client(pool_.get());
    bson_destroy(reply.get());
    mongoc_client_command_simple_with_server_id(client.get(), db.c_str(), command, nullptr, server_id, reply.get(),
                                                &error);
  }
  if (!has_reply(reply.get())) throw_unreachable(address_, error);
  return reply.doc();
}

RemoteCursor::RemoteCursor(std::shared_ptr<RemoteSet> set, const std::string& db, const bson_t* command)
    : set_(std::move(set)), server_id_(set_->primary_server_id()), db_(db) {
  Doc reply = set_->run_on(server_id_, db, command);
  if (is_not_primary_reply(reply.bson())) {
    // Not primary any more (an election): start over on the new primary once.
    server_id_ = set_->primary_server_id();
    reply = set_->run_on(server_id_, db, command);
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
    set_->run_on(server_id_, db_, kill.get());
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
    Doc reply = set_->run_on(server_id_, db_, get_more.get());
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

#include "mongo/client.h"

#include <strings.h>

#include <mutex>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/redact.h"

namespace shardsafe::mongo {
namespace {

// libmongoc's own log lines go through spdlog (at debug: the errors they describe reach the
// user as exceptions), redacted in case they quote a URI.
void log_through_spdlog(mongoc_log_level_t level, const char* domain, const char* message, void*) {
  const auto text = fmt::format("{}: {}", domain, redact_uri(message));
  if (level <= MONGOC_LOG_LEVEL_WARNING) {
    spdlog::debug("libmongoc warning: {}", text);
  } else {
    spdlog::trace("libmongoc: {}", text);
  }
}

// mongoc_init must run once per process before any other libmongoc call.
void ensure_driver_initialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    mongoc_log_set_handler(log_through_spdlog, nullptr);
    mongoc_init();
    std::atexit(mongoc_cleanup);
  });
}

struct ReadPrefsDeleter {
  void operator()(mongoc_read_prefs_t* prefs) const { mongoc_read_prefs_destroy(prefs); }
};
using ReadPrefs = std::unique_ptr<mongoc_read_prefs_t, ReadPrefsDeleter>;

ReadPrefs make_read_prefs(ReadPreference preference) {
  switch (preference) {
    case ReadPreference::kPrimary:
      return ReadPrefs(mongoc_read_prefs_new(MONGOC_READ_PRIMARY));
    case ReadPreference::kPrimaryPreferred:
      return ReadPrefs(mongoc_read_prefs_new(MONGOC_READ_PRIMARY_PREFERRED));
    case ReadPreference::kSecondary:
      return ReadPrefs(mongoc_read_prefs_new(MONGOC_READ_SECONDARY));
    case ReadPreference::kSecondaryPreferred:
      return ReadPrefs(mongoc_read_prefs_new(MONGOC_READ_SECONDARY_PREFERRED));
    case ReadPreference::kNearest:
      return ReadPrefs(mongoc_read_prefs_new(MONGOC_READ_NEAREST));
  }
  return ReadPrefs(mongoc_read_prefs_new(MONGOC_READ_PRIMARY));
}

struct BulkDeleter {
  void operator()(mongoc_bulk_operation_t* bulk) const { mongoc_bulk_operation_destroy(bulk); }
};

// "find on \"db\"": the command's name (its first key) and database, for messages.
std::string describe_command(const Bson& command, const std::string& db) {
  bson_iter_t first;
  std::string name = "command";
  if (bson_iter_init(&first, command.get()) && bson_iter_next(&first)) name = bson_iter_key(&first);
  return name + " on \"" + db + "\"";
}

bool is_connection_error(const bson_error_t& error) {
  return error.domain == MONGOC_ERROR_STREAM || error.domain == MONGOC_ERROR_SERVER_SELECTION ||
         error.domain == MONGOC_ERROR_CLIENT;
}

}  // namespace

ReadPreference parse_read_preference(const std::string& mode) {
  if (mode == "primary") return ReadPreference::kPrimary;
  if (mode == "primaryPreferred") return ReadPreference::kPrimaryPreferred;
  if (mode == "secondary") return ReadPreference::kSecondary;
  if (mode == "secondaryPreferred") return ReadPreference::kSecondaryPreferred;
  if (mode == "nearest") return ReadPreference::kNearest;
  throw Error(ErrorCode::kInvalidArgument,
              "unknown read preference \"" + mode +
                  "\": expected primary, primaryPreferred, secondary, secondaryPreferred or nearest");
}

void throw_mongoc_error(const bson_error_t& error, const bson_t* reply, const std::string& context) {
  const std::string message = context + ": " + redact_uri(error.message);
  if (error.domain == MONGOC_ERROR_SERVER || error.domain == MONGOC_ERROR_WRITE_CONCERN ||
      error.domain == MONGOC_ERROR_QUERY) {
    std::string code_name;
    if (reply != nullptr) code_name = BsonView(reply).string("codeName").value_or("");
    throw ServerError(static_cast<int>(error.code), code_name, message);
  }
  if (is_connection_error(error)) throw Error(ErrorCode::kConnection, message);
  throw Error(ErrorCode::kInternal, message);
}

Uri::Uri(const std::string& uri) : original_(uri), redacted_(redact_uri(uri)) {
  ensure_driver_initialised();
  bson_error_t error;
  uri_.reset(mongoc_uri_new_with_error(uri.c_str(), &error));
  if (!uri_) {
    // libmongoc's message may quote the URI; say what is wrong with the redacted form instead.
    throw Error(ErrorCode::kBadUri, "invalid MongoDB URI \"" + redacted_ + "\": " + redact_uri(error.message));
  }
}

std::optional<std::string> Uri::replica_set() const {
  const char* name = mongoc_uri_get_replica_set(uri_.get());
  if (name == nullptr) return std::nullopt;
  return std::string(name);
}

std::vector<std::string> Uri::hosts() const {
  std::vector<std::string> out;
  for (const mongoc_host_list_t* host = mongoc_uri_get_hosts(uri_.get()); host != nullptr; host = host->next) {
    out.emplace_back(host->host_and_port);
  }
  return out;
}

Uri Uri::with_hosts(const std::vector<std::string>& hosts, const std::string& replica_set) const {
  const auto scheme_end = original_.find("://") + 3;
  auto hosts_end = original_.find_first_of("/?", scheme_end);
  if (hosts_end == std::string::npos) hosts_end = original_.size();
  const auto at = original_.rfind('@', hosts_end);
  const std::string userinfo =
      (at == std::string::npos || at < scheme_end) ? "" : original_.substr(scheme_end, at + 1 - scheme_end);
  std::string options;
  const auto query = original_.find('?', scheme_end);
  if (query != std::string::npos) {
    std::string_view rest = std::string_view(original_).substr(query + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const auto pair = rest.substr(0, amp);
      const auto name = pair.substr(0, pair.find('='));
      if (!name.empty() && strcasecmp(std::string(name).c_str(), MONGOC_URI_REPLICASET) != 0 &&
          strcasecmp(std::string(name).c_str(), MONGOC_URI_DIRECTCONNECTION) != 0) {
        options += std::string(pair) + "&";
      }
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
  }
  std::string seed_list;
  for (const auto& host : hosts) seed_list += (seed_list.empty() ? "" : ",") + host;
  if (replica_set.empty()) {
    return Uri("mongodb://" + userinfo + hosts.at(0) + "/?" + options + "directConnection=true");
  }
  return Uri("mongodb://" + userinfo + seed_list + "/?" + options + "replicaSet=" + replica_set);
}

Cursor::Cursor(mongoc_cursor_t* cursor, std::string what) : cursor_(cursor), what_(std::move(what)) {}

const bson_t* Cursor::next() {
  const bson_t* document = nullptr;
  if (mongoc_cursor_next(cursor_.get(), &document)) return document;
  bson_error_t error;
  const bson_t* reply = nullptr;
  if (mongoc_cursor_error_document(cursor_.get(), &error, &reply)) throw_mongoc_error(error, reply, what_);
  return nullptr;
}

void Client::Releaser::operator()(mongoc_client_t* client) const {
  if (pool != nullptr) {
    mongoc_client_pool_push(pool, client);
  } else {
    mongoc_client_destroy(client);
  }
}

Client::Client(const Uri& uri)
    : client_(mongoc_client_new_from_uri(uri.get()), Releaser{nullptr}), redacted_uri_(uri.redacted()) {
  if (!client_) throw Error(ErrorCode::kBadUri, "cannot create a client for \"" + redacted_uri_ + "\"");
  mongoc_client_set_error_api(client_.get(), MONGOC_ERROR_API_VERSION_2);
  mongoc_client_set_appname(client_.get(), "shardsafe");
}

std::unique_ptr<mongoc_collection_t, Client::CollectionDeleter> Client::collection_handle(const std::string& db,
                                                                               const std::string& collection) {
  return std::unique_ptr<mongoc_collection_t, CollectionDeleter>(
      mongoc_client_get_collection(client_.get(), db.c_str(), collection.c_str()));
}

Client::Client(std::unique_ptr<mongoc_client_t, Releaser> client, std::string redacted_uri)
    : client_(std::move(client)), redacted_uri_(std::move(redacted_uri)) {}

Bson Client::command(const std::string& db, const Bson& command, ReadPreference read_preference) {
  const auto prefs = make_read_prefs(read_preference);
  bson_t reply;
  bson_error_t error;
  const bool ok = mongoc_client_command_with_opts(client_.get(), db.c_str(), command.get(), prefs.get(),
                                                  nullptr, &reply, &error);
  Bson owned = Bson::adopt(&reply);
  if (!ok) throw_mongoc_error(error, owned.get(), describe_command(command, db) + " at " + redacted_uri_);
  return owned;
}

Bson Client::command_after(const std::string& db, const Bson& command, const Bson& cluster_time) {
  bson_error_t error;
  std::unique_ptr<mongoc_client_session_t, SessionDeleter> session(mongoc_client_start_session(client_.get(), nullptr, &error));
  if (!session) throw_mongoc_error(error, nullptr, "starting a session at " + redacted_uri_);
  mongoc_client_session_advance_cluster_time(session.get(), cluster_time.get());
  Bson opts;
  if (!mongoc_client_session_append(session.get(), opts.get(), &error)) {
    throw_mongoc_error(error, nullptr, "joining a session at " + redacted_uri_);
  }
  bson_t reply;
  const bool ok = mongoc_client_command_with_opts(client_.get(), db.c_str(), command.get(), nullptr, opts.get(), &reply, &error);
  Bson owned = Bson::adopt(&reply);
  if (!ok) throw_mongoc_error(error, owned.get(), describe_command(command, db) + " at " + redacted_uri_);
  return owned;
}

Cursor Client::command_cursor(const std::string& db, const Bson& command, ReadPreference read_preference) {
  const auto prefs = make_read_prefs(read_preference);
  bson_t reply;
  bson_error_t error;
  const std::string what = describe_command(command, db);
  if (!mongoc_client_read_command_with_opts(client_.get(), db.c_str(), command.get(), prefs.get(), nullptr,
                                            &reply, &error)) {
    Bson owned = Bson::adopt(&reply);
    throw_mongoc_error(error, owned.get(), what);
  }
  // The reply remembers which server answered, so getMores go to the same member.
  mongoc_cursor_t* cursor = mongoc_cursor_new_from_command_reply_with_opts(client_.get(), &reply, nullptr);
  return Cursor(cursor, what);
}

Cursor Client::find(const std::string& db, const std::string& collection, const Bson& filter,
                    const Bson& options, ReadPreference read_preference) {
  const auto handle = collection_handle(db, collection);
  const auto prefs = make_read_prefs(read_preference);
  // The cursor keeps its own reference to what it needs; the collection handle may go.
  return Cursor(mongoc_collection_find_with_opts(handle.get(), filter.get(), options.get(), prefs.get()),
                "find on \"" + db + "." + collection + "\"");
}

namespace {

void append_insert(mongoc_bulk_operation_t* bulk, std::span<const std::uint8_t> bytes, const std::string& ns) {
  bson_t document;
  bson_error_t error;
  if (!bson_init_static(&document, bytes.data(), bytes.size())) {
    throw Error(ErrorCode::kCorruptData, "invalid BSON document for \"" + ns + "\"");
  }
  if (!mongoc_bulk_operation_insert_with_opts(bulk, &document, nullptr, &error)) {
    throw_mongoc_error(error, nullptr, "insert into \"" + ns + "\"");
  }
}

// Unordered bulks report per-document write errors in the result; anything else throws.
InsertResult execute_inserts(mongoc_bulk_operation_t* bulk, bool ordered, const std::string& ns) {
  bson_t reply;
  bson_error_t error;
  const bool ok = mongoc_bulk_operation_execute(bulk, &reply, &error) != 0;
  Bson owned = Bson::adopt(&reply);
  const BsonView view(owned);
  InsertResult result;
  result.inserted = view.integer("nInserted").value_or(0);
  result.write_errors = view.documents("writeErrors");
  if (!ok && (ordered || result.write_errors.empty())) {
    throw_mongoc_error(error, owned.get(), "insert into \"" + ns + "\"");
  }
  return result;
}

}  // namespace

InsertResult Client::insert_many(const std::string& db, const std::string& collection,
                                 const std::vector<std::span<const std::uint8_t>>& documents, bool ordered,
                                 const Bson& write_concern) {
  if (documents.empty()) return InsertResult{};
  BsonBuilder builder;
  builder.append("ordered", ordered);
  if (!write_concern.empty()) builder.append("writeConcern", write_concern);
  const Bson options = builder.build();
  const auto handle = collection_handle(db, collection);
  std::unique_ptr<mongoc_bulk_operation_t, BulkDeleter> bulk(
      mongoc_collection_create_bulk_operation_with_opts(handle.get(), options.get()));
  const std::string ns = db + "." + collection;
  for (const auto& bytes : documents) append_insert(bulk.get(), bytes, ns);
  return execute_inserts(bulk.get(), ordered, ns);
}

InsertBatch::InsertBatch(std::string db, std::string collection, bool majority)
    : bulk_(mongoc_bulk_operation_new(/*ordered=*/false)), db_(std::move(db)), collection_(std::move(collection)) {
  mongoc_bulk_operation_set_database(bulk_.get(), db_.c_str());
  mongoc_bulk_operation_set_collection(bulk_.get(), collection_.c_str());
  if (majority) {
    const std::unique_ptr<mongoc_write_concern_t, decltype(&mongoc_write_concern_destroy)> concern(
        mongoc_write_concern_new(), mongoc_write_concern_destroy);
    mongoc_write_concern_set_wmajority(concern.get(), 0);
    mongoc_bulk_operation_set_write_concern(bulk_.get(), concern.get());  // copies it
  }
}

void InsertBatch::add(std::span<const std::uint8_t> document) {
  append_insert(bulk_.get(), document, ns());
  ++documents_;
  bytes_ += document.size();
}

InsertResult Client::insert(InsertBatch& batch) {
  if (batch.documents_ == 0) return InsertResult{};
  mongoc_bulk_operation_set_client(batch.bulk_.get(), client_.get());
  return execute_inserts(batch.bulk_.get(), /*ordered=*/false, batch.ns());
}

ClientPool::ClientPool(const Uri& uri, int max_size) : redacted_uri_(uri.redacted()) {
  pool_.reset(mongoc_client_pool_new(uri.get()));
  if (!pool_) throw Error(ErrorCode::kBadUri, "cannot create a client pool for \"" + redacted_uri_ + "\"");
  mongoc_client_pool_set_error_api(pool_.get(), MONGOC_ERROR_API_VERSION_2);
  mongoc_client_pool_set_appname(pool_.get(), "shardsafe");
  mongoc_client_pool_max_size(pool_.get(), static_cast<std::uint32_t>(max_size));
}

Client ClientPool::acquire() {
  std::unique_ptr<mongoc_client_t, Client::Releaser> client(mongoc_client_pool_pop(pool_.get()),
                                                            Client::Releaser{pool_.get()});
  return Client(std::move(client), redacted_uri_);
}

}  // namespace shardsafe::mongo

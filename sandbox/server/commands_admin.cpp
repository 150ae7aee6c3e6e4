// Connection lifecycle and server information: hello/isMaster, buildInfo, ping,
// getParameter, serverStatus, endSessions and friends.
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>

#include "server/commands.h"

namespace sandbox {
namespace {

// One real release's numbers: MongoDB 7.0 speaks wire versions 0..21.
constexpr int kMaxWireVersion = 21;
constexpr const char* kVersion = "7.0.14";

// electionId: an ObjectId whose first 8 bytes are 0x7fffffff and the term, as real servers
// encode it (drivers compare it with setVersion to find the newest primary).
void append_election_id(bson_t* out, std::int64_t term) {
  std::uint8_t bytes[12] = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 8; ++i) bytes[4 + i] = static_cast<std::uint8_t>(term >> (8 * (7 - i)));
  bson_oid_t oid;
  bson_oid_init_from_data(&oid, bytes);
  BSON_APPEND_OID(out, "electionId", &oid);
}

void append_last_write(bson_t* out, Engine& engine) {
  bson_t last_write;
  BSON_APPEND_DOCUMENT_BEGIN(out, "lastWrite", &last_write);
  OpTime applied = engine.last_applied();
  OpTime committed = engine.repl().last_committed;
  append_optime(&last_write, "opTime", applied);
  BSON_APPEND_DATE_TIME(&last_write, "lastWriteDate", static_cast<std::int64_t>(applied.ts.secs) * 1000);
  append_optime(&last_write, "majorityOpTime", committed);
  BSON_APPEND_DATE_TIME(&last_write, "majorityWriteDate",
                        static_cast<std::int64_t>(committed.ts.secs) * 1000);
  bson_append_document_end(out, &last_write);
}

void append_replica_set_fields(bson_t* out, Engine& engine, bool is_hello) {
  const ReplState& repl = engine.repl();
  const char* writable_key = is_hello ? "isWritablePrimary" : "ismaster";
  if (!repl.config) {
    BSON_APPEND_BOOL(out, writable_key, false);
    BSON_APPEND_BOOL(out, "secondary", false);
    BSON_APPEND_UTF8(out, "info", "Does not have a valid replica set config");
    BSON_APPEND_BOOL(out, "isreplicaset", true);
    return;
  }
  bson_t hosts;
  BSON_APPEND_ARRAY_BEGIN(out, "hosts", &hosts);
  for (std::size_t i = 0; i < repl.hosts.size(); ++i) {
    BSON_APPEND_UTF8(&hosts, std::to_string(i).c_str(), repl.hosts[i].c_str());
  }
  bson_append_array_end(out, &hosts);
  BSON_APPEND_UTF8(out, "setName", engine.options().repl_set.c_str());
  BSON_APPEND_INT32(out, "setVersion",
                    static_cast<int>(get_number(repl.config->bson(), "version").value_or(1)));
  BSON_APPEND_BOOL(out, writable_key, engine.is_primary());
  BSON_APPEND_BOOL(out, "secondary", engine.is_secondary());
  if (!repl.primary.empty()) BSON_APPEND_UTF8(out, "primary", repl.primary.c_str());
  BSON_APPEND_UTF8(out, "me", engine.options().self_host().c_str());
  if (engine.is_primary()) append_election_id(out, repl.term);
  append_last_write(out, engine);
  if (engine.options().configsvr) BSON_APPEND_INT32(out, "configsvr", 2);
}

Doc hello_reply(CommandContext& context, bool is_hello) {
  Engine& engine = context.engine;
  Builder out;
  if (get_bool(context.cmd, "helloOk", false)) BSON_APPEND_BOOL(out.get(), "helloOk", true);
  if (engine.is_replica_set()) {
    append_replica_set_fields(out.get(), engine, is_hello);
  } else {
    BSON_APPEND_BOOL(out.get(), is_hello ? "isWritablePrimary" : "ismaster", true);
  }
  BSON_APPEND_INT32(out.get(), "maxBsonObjectSize", 16 * 1024 * 1024);
  BSON_APPEND_INT32(out.get(), "maxMessageSizeBytes", kMaxMessageBytes);
  BSON_APPEND_INT32(out.get(), "maxWriteBatchSize", 100000);
  BSON_APPEND_DATE_TIME(out.get(), "localTime", now_millis());
  BSON_APPEND_INT32(out.get(), "logicalSessionTimeoutMinutes", 30);
  BSON_APPEND_INT64(out.get(), "connectionId", context.connection.id);
  BSON_APPEND_INT32(out.get(), "minWireVersion", 0);
  BSON_APPEND_INT32(out.get(), "maxWireVersion", kMaxWireVersion);
  BSON_APPEND_BOOL(out.get(), "readOnly", false);
  // Compression is advertised only to a client that offered zlib in this handshake.
  if (auto offered = get_document(context.cmd, "compression")) {
    bson_iter_t iter;
    bson_iter_init(&iter, offered->bson());
    while (bson_iter_next(&iter)) {
      if (BSON_ITER_HOLDS_UTF8(&iter) && std::strcmp(bson_iter_utf8(&iter, nullptr), "zlib") == 0) {
        context.connection.client_offered_zlib = true;
      }
    }
    if (context.connection.client_offered_zlib) {
      bson_t list;
      BSON_APPEND_ARRAY_BEGIN(out.get(), "compression", &list);
      BSON_APPEND_UTF8(&list, "0", "zlib");
      bson_append_array_end(out.get(), &list);
    }
  }
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc hello(CommandContext& context) { return hello_reply(context, true); }
Doc is_master(CommandContext& context) { return hello_reply(context, false); }

Doc build_info(CommandContext&) {
  Builder out;
  BSON_APPEND_UTF8(out.get(), "version", kVersion);
  BSON_APPEND_UTF8(out.get(), "gitVersion", "shardsafe-sandbox");
  bson_t array;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "versionArray", &array);
  for (int i = 0, parts[4] = {7, 0, 14, 0}; i < 4; ++i) {
    BSON_APPEND_INT32(&array, std::to_string(i).c_str(), parts[i]);
  }
  bson_append_array_end(out.get(), &array);
  bson_t modules;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "modules", &modules);
  bson_append_array_end(out.get(), &modules);
  BSON_APPEND_UTF8(out.get(), "sysInfo", "deprecated");
  BSON_APPEND_INT32(out.get(), "bits", 64);
  BSON_APPEND_BOOL(out.get(), "debug", false);
  BSON_APPEND_INT32(out.get(), "maxBsonObjectSize", 16 * 1024 * 1024);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc ping(CommandContext&) { return ok_reply(); }

Doc get_parameter(CommandContext& context) {
  Builder out;
  bool all = false;
  if (auto value = find_field(context.cmd, "getParameter"); value && BSON_ITER_HOLDS_UTF8(&*value)) {
    all = std::strcmp(bson_iter_utf8(&*value, nullptr), "*") == 0;
  }
  if (all || find_field(context.cmd, "featureCompatibilityVersion")) {
    bson_t fcv;
    BSON_APPEND_DOCUMENT_BEGIN(out.get(), "featureCompatibilityVersion", &fcv);
    BSON_APPEND_UTF8(&fcv, "version", "7.0");
    bson_append_document_end(out.get(), &fcv);
  }
  if (all || find_field(context.cmd, "authSchemaVersion")) {
    BSON_APPEND_INT32(out.get(), "authSchemaVersion", 5);
  }
  if (all || find_field(context.cmd, "periodicNoopIntervalSecs")) {
    BSON_APPEND_INT32(out.get(), "periodicNoopIntervalSecs", 10);
  }
  if (bson_count_keys(out.get()) == 0) {
    throw_error(72, "InvalidOptions", "no option found to get");
  }
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc server_status(CommandContext& context) {
  Engine& engine = context.engine;
  Builder out;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  BSON_APPEND_UTF8(out.get(), "host", host);
  BSON_APPEND_UTF8(out.get(), "version", kVersion);
  BSON_APPEND_UTF8(out.get(), "process", "mongod");
  BSON_APPEND_INT64(out.get(), "pid", getpid());
  BSON_APPEND_INT64(out.get(), "uptime", (now_millis() - engine.repl().start_ms) / 1000);
  BSON_APPEND_DATE_TIME(out.get(), "localTime", now_millis());
  if (engine.is_replica_set()) {
    bson_t repl;
    BSON_APPEND_DOCUMENT_BEGIN(out.get(), "repl", &repl);
    BSON_APPEND_UTF8(&repl, "setName", engine.options().repl_set.c_str());
    BSON_APPEND_BOOL(&repl, "isWritablePrimary", engine.is_primary());
    BSON_APPEND_BOOL(&repl, "secondary", engine.is_secondary());
    BSON_APPEND_UTF8(&repl, "me", engine.options().self_host().c_str());
    bson_append_document_end(out.get(), &repl);
  }
  bson_t storage;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "storageEngine", &storage);
  BSON_APPEND_UTF8(&storage, "name", "sandbox");
  BSON_APPEND_BOOL(&storage, "supportsCommittedReads", true);
  BSON_APPEND_BOOL(&storage, "persistent", true);
  bson_append_document_end(out.get(), &storage);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc whats_my_uri(CommandContext&) {
  Builder out;
  BSON_APPEND_UTF8(out.get(), "you", "127.0.0.1");
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc get_cmd_line_opts(CommandContext& context) {
  const ServerOptions& options = context.engine.options();
  Builder out;
  bson_t argv, parsed, net, storage, replication;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "argv", &argv);
  BSON_APPEND_UTF8(&argv, "0", "mongod");
  bson_append_array_end(out.get(), &argv);
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "parsed", &parsed);
  BSON_APPEND_DOCUMENT_BEGIN(&parsed, "net", &net);
  BSON_APPEND_UTF8(&net, "bindIp", options.bind_ip.c_str());
  BSON_APPEND_INT32(&net, "port", options.port);
  bson_append_document_end(&parsed, &net);
  BSON_APPEND_DOCUMENT_BEGIN(&parsed, "storage", &storage);
  BSON_APPEND_UTF8(&storage, "dbPath", options.dbpath.c_str());
  bson_append_document_end(&parsed, &storage);
  if (!options.repl_set.empty()) {
    BSON_APPEND_DOCUMENT_BEGIN(&parsed, "replication", &replication);
    BSON_APPEND_UTF8(&replication, "replSet", options.repl_set.c_str());
    bson_append_document_end(&parsed, &replication);
  }
  bson_append_document_end(out.get(), &parsed);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc host_info(CommandContext&) {
  Builder out;
  bson_t system;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "system", &system);
  BSON_APPEND_DATE_TIME(&system, "currentTime", now_millis());
  BSON_APPEND_INT32(&system, "numCores", static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  bson_append_document_end(out.get(), &system);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc connection_status(CommandContext&) {
  Builder out;
  bson_t info, users, roles;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "authInfo", &info);
  BSON_APPEND_ARRAY_BEGIN(&info, "authenticatedUsers", &users);
  bson_append_array_end(&info, &users);
  BSON_APPEND_ARRAY_BEGIN(&info, "authenticatedUserRoles", &roles);
  bson_append_array_end(&info, &roles);
  bson_append_document_end(out.get(), &info);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

}  // namespace

void add_admin_commands(std::vector<CommandSpec>& table) {
  table.insert(table.end(), {
      {"hello", hello, CommandKind::kAny},
      {"isMaster", is_master, CommandKind::kAny},
      {"ismaster", is_master, CommandKind::kAny},
      {"buildInfo", build_info, CommandKind::kAny},
      {"buildinfo", build_info, CommandKind::kAny},
      {"ping", ping, CommandKind::kAny},
      {"getParameter", get_parameter, CommandKind::kAny},
      {"serverStatus", server_status, CommandKind::kAny},
      {"endSessions", ping, CommandKind::kAny},
      {"refreshSessions", ping, CommandKind::kAny},
      {"whatsmyuri", whats_my_uri, CommandKind::kAny},
      {"getCmdLineOpts", get_cmd_line_opts, CommandKind::kAny},
      {"hostInfo", host_info, CommandKind::kAny},
      {"connectionStatus", connection_status, CommandKind::kAny},
  });
}

}  // namespace sandbox

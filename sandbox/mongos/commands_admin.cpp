// The router's own server information: hello/isMaster (msg "isdbgrid", as drivers detect a
// mongos by it), buildInfo, ping, getParameter, serverStatus, endSessions.
#include <unistd.h>

#include "mongos/router.h"

namespace sandbox::mongos {
namespace {

// The same release the sandbox members report: MongoDB 7.0 (wire versions 0..21).
constexpr int kMaxWireVersion = 21;
constexpr const char* kVersion = "7.0.14";

Doc hello_reply(RouterContext& context, bool is_hello) {
  Builder out;
  if (get_bool(context.cmd, "helloOk", false)) BSON_APPEND_BOOL(out.get(), "helloOk", true);
  BSON_APPEND_BOOL(out.get(), is_hello ? "isWritablePrimary" : "ismaster", true);
  BSON_APPEND_UTF8(out.get(), "msg", "isdbgrid");
  BSON_APPEND_INT32(out.get(), "maxBsonObjectSize", 16 * 1024 * 1024);
  BSON_APPEND_INT32(out.get(), "maxMessageSizeBytes", kMaxMessageBytes);
  BSON_APPEND_INT32(out.get(), "maxWriteBatchSize", 100000);
  BSON_APPEND_DATE_TIME(out.get(), "localTime", now_millis());
  BSON_APPEND_INT32(out.get(), "logicalSessionTimeoutMinutes", 30);
  BSON_APPEND_INT64(out.get(), "connectionId", context.connection_id);
  BSON_APPEND_INT32(out.get(), "minWireVersion", 0);
  BSON_APPEND_INT32(out.get(), "maxWireVersion", kMaxWireVersion);
  BSON_APPEND_BOOL(out.get(), "readOnly", false);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc hello(RouterContext& context) { return hello_reply(context, true); }
Doc is_master(RouterContext& context) { return hello_reply(context, false); }

Doc build_info(RouterContext&) {
  Builder out;
  BSON_APPEND_UTF8(out.get(), "version", kVersion);
  BSON_APPEND_UTF8(out.get(), "gitVersion", "shardsafe-sandbox");
  bson_t array;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "versionArray", &array);
  const int parts[4] = {7, 0, 14, 0};
  for (int i = 0; i < 4; ++i) BSON_APPEND_INT32(&array, std::to_string(i).c_str(), parts[i]);
  bson_append_array_end(out.get(), &array);
  bson_t modules;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "modules", &modules);
  bson_append_array_end(out.get(), &modules);
  BSON_APPEND_INT32(out.get(), "bits", 64);
  BSON_APPEND_BOOL(out.get(), "debug", false);
  BSON_APPEND_INT32(out.get(), "maxBsonObjectSize", 16 * 1024 * 1024);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc ping(RouterContext&) { return ok_document(); }

Doc get_parameter(RouterContext& context) {
  Builder out;
  bool all = false;
  if (auto value = find_field(context.cmd, "getParameter"); value && BSON_ITER_HOLDS_UTF8(&*value)) {
    all = std::string_view(bson_iter_utf8(&*value, nullptr)) == "*";
  }
  if (all || find_field(context.cmd, "featureCompatibilityVersion")) {
    bson_t fcv;
    BSON_APPEND_DOCUMENT_BEGIN(out.get(), "featureCompatibilityVersion", &fcv);
    BSON_APPEND_UTF8(&fcv, "version", "7.0");
    bson_append_document_end(out.get(), &fcv);
  }
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc server_status(RouterContext& context) {
  Router& router = context.router;
  Builder out;
  BSON_APPEND_UTF8(out.get(), "host", router.options().self_host().c_str());
  BSON_APPEND_UTF8(out.get(), "version", kVersion);
  BSON_APPEND_UTF8(out.get(), "process", "mongos");
  BSON_APPEND_INT64(out.get(), "pid", static_cast<std::int64_t>(getpid()));
  BSON_APPEND_INT64(out.get(), "uptime", (now_millis() - router.start_ms()) / 1000);
  BSON_APPEND_INT64(out.get(), "uptimeMillis", now_millis() - router.start_ms());
  BSON_APPEND_DATE_TIME(out.get(), "localTime", now_millis());
  bson_t metrics, cursor, open;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "metrics", &metrics);
  BSON_APPEND_DOCUMENT_BEGIN(&metrics, "cursor", &cursor);
  BSON_APPEND_DOCUMENT_BEGIN(&cursor, "open", &open);
  BSON_APPEND_INT64(&open, "total", static_cast<std::int64_t>(router.cursors().open_count()));
  bson_append_document_end(&cursor, &open);
  bson_append_document_end(&metrics, &cursor);
  bson_append_document_end(out.get(), &metrics);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc end_sessions(RouterContext&) { return ok_document(); }

// getCmdLineOpts: tools find the config server's connection string in parsed.sharding.configDB.
Doc get_cmd_line_opts(RouterContext& context) {
  const RouterOptions& options = context.router.options();
  Builder out, argv, parsed, net, sharding;
  const std::string words[] = {"mongos", "--port", std::to_string(options.port), "--bind_ip", options.bind_ip,
                               "--configdb", options.configdb};
  for (std::size_t i = 0; i < std::size(words); ++i) BSON_APPEND_UTF8(argv.get(), std::to_string(i).c_str(), words[i].c_str());
  BSON_APPEND_ARRAY(out.get(), "argv", argv.get());
  BSON_APPEND_UTF8(net.get(), "bindIp", options.bind_ip.c_str());
  BSON_APPEND_INT32(net.get(), "port", options.port);
  append_doc(parsed.get(), "net", net.get());
  BSON_APPEND_UTF8(sharding.get(), "configDB", options.configdb.c_str());
  append_doc(parsed.get(), "sharding", sharding.get());
  append_doc(out.get(), "parsed", parsed.get());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

}  // namespace

void add_router_admin_commands(std::vector<RouterCommand>& table) {
  table.insert(table.end(), {
                                {"hello", hello},
                                {"isMaster", is_master},
                                {"buildInfo", build_info},
                                {"buildinfo", build_info},
                                {"ping", ping},
                                {"getParameter", get_parameter},
                                {"serverStatus", server_status},
                                {"endSessions", end_sessions},
                                {"getCmdLineOpts", get_cmd_line_opts},
                            });
}

}  // namespace sandbox::mongos

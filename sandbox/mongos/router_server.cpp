// The router process: connects to the config server, listens, and serves each client
// connection on its own thread with the sandbox's wire codec. Stops on SIGTERM/SIGINT.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "mongos/router.h"
#include "server/log.h"
#include "server/wire.h"

namespace sandbox::mongos {
namespace {

constexpr int kExitAddressInUse = 48;  // what mongod and mongos exit with when the port is taken
constexpr int kExitNoConfigServer = 14;

void serve_client(Router& router, int fd, std::int64_t connection_id) {
  std::int32_t next_reply_id = 1;
  try {
    RawMessage message;
    while (read_message(fd, message)) {
      Request request = decode_request(message);
      Doc reply = run_router_command(router, request, connection_id);
      if (request.more_to_come) continue;
      request.compressor = kCompressorNoop;  // the router never advertises compression
      write_all(fd, encode_reply(request, reply, next_reply_id++));
    }
  } catch (const std::exception& error) {
    log_line("connection " + std::to_string(connection_id) + " closed: " + error.what());
  }
  ::close(fd);
}

// config.version {_id: 1, clusterId}: written once per cluster, by the first router.
void ensure_cluster_version(Router& router) {
  Builder version;
  BSON_APPEND_INT32(version.get(), "_id", 1);
  bson_oid_t cluster_id;
  bson_oid_init(&cluster_id, nullptr);
  BSON_APPEND_OID(version.get(), "clusterId", &cluster_id);
  try {
    router.config().insert("version", version.get());
  } catch (const CommandError& error) {
    if (error.code() != 11000) throw;
  }
}

}  // namespace

int run_router(const RouterOptions& options) {
  open_log(options.logpath);
  StopSignals stop_signals;
  mongoc_init();

  std::unique_ptr<Router> router;
  try {
    router = std::make_unique<Router>(options);
    ensure_cluster_version(*router);
    router->refresh_shards();
  } catch (const std::exception& error) {
    log_line("cannot use the config server " + options.configdb + ": " + error.what());
    return kExitNoConfigServer;
  }
  int listen_fd = listen_tcp(options.bind_ip, options.port);
  if (listen_fd < 0) {
    log_line("cannot listen on " + options.self_host() + ": " + std::strerror(errno));
    return kExitAddressInUse;
  }
  log_line("mongos waiting for connections on " + options.self_host() + " (config server " + options.configdb + ")");
  std::thread(accept_connections, listen_fd, [&router = *router](int fd, std::int64_t id) { serve_client(router, fd, id); })
      .detach();
  start_balancer(*router);

  log_line("received signal " + std::to_string(stop_signals.wait()) + ", shutting down");
  ::close(listen_fd);
  // Connection and balancer threads are detached; the router holds no state of its own to save.
  _exit(0);
}

}  // namespace sandbox::mongos

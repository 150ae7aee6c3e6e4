#include "server/server.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "server/connection.h"
#include "server/log.h"
#include "server/replication.h"
#include "server/wire.h"

namespace sandbox {
namespace {

constexpr int kExitAddressInUse = 48;  // what mongod exits with when its port is taken

}  // namespace

int run_member(const ServerOptions& options) {
  open_log(options.logpath);
  StopSignals stop_signals;  // before any thread starts, so all of them inherit the mask

  Engine engine(options);
  try {
    std::lock_guard lock(engine.mutex);
    engine.open();
  } catch (const std::exception& error) {
    log_line(std::string("cannot load data from ") + options.dbpath.string() + ": " + error.what());
    return 100;
  }
  int listen_fd = listen_tcp(options.bind_ip, options.port);
  if (listen_fd < 0) {
    log_line("cannot listen on " + options.self_host() + ": " + std::strerror(errno));
    return kExitAddressInUse;
  }
  log_line("waiting for connections on " + options.self_host() + " (dbpath " + options.dbpath.string() + ")");
  std::thread(accept_connections, listen_fd, [&engine](int fd, std::int64_t id) { serve_connection(engine, fd, id); })
      .detach();
  Replication replication(engine);
  replication.start();

  log_line("received signal " + std::to_string(stop_signals.wait()) + ", shutting down");
  {
    std::lock_guard lock(engine.mutex);
    try {
      engine.checkpoint();
    } catch (const std::exception& error) {
      log_line(std::string("checkpoint at shutdown failed (the journal still holds every write): ") + error.what());
    }
  }
  // Connection threads are detached and may be blocked on sockets: leave without unwinding
  // them; everything acknowledged is already durable.
  ::close(listen_fd);
  _exit(0);
}

}  // namespace sandbox

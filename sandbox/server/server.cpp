#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
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

void accept_loop(Engine& engine, int listen_fd) {
  std::atomic<std::int64_t> next_connection_id{1};
  while (true) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
        if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      log_line(std::string("accept failed: ") + std::strerror(errno));
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::int64_t id = next_connection_id++;
    std::thread(serve_connection, std::ref(engine), fd, id).detach();
  }
}

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
  std::thread(accept_loop, std::ref(engine), listen_fd).detach();
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

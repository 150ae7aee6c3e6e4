#include "server/connection.h"

#include <unistd.h>

#include "server/commands.h"
#include "server/log.h"
#include "server/wire.h"

namespace sandbox {

void serve_connection(Engine& engine, int fd, std::int64_t connection_id) {
  ConnectionInfo info{.id = connection_id};
  std::int32_t next_reply_id = 1;
  try {
    RawMessage message;
    while (read_message(fd, message)) {
      Request request = decode_request(message);
      Doc reply = run_command(engine, request, info);
      if (request.more_to_come) continue;  // w:0 style: the client reads no reply
      if (!info.client_offered_zlib) request.compressor = kCompressorNoop;
      write_all(fd, encode_reply(request, reply, next_reply_id++));
    }
  } catch (const ProtocolError& error) {
    log_line("connection " + std::to_string(connection_id) + " closed: " + error.what());
  } catch (const std::exception& error) {
    log_line("connection " + std::to_string(connection_id) + " failed: " + error.what());
  }
  ::close(fd);
}

}  // namespace sandbox

// Messages a client sends to shardsafe-sandbox, through the server's own read_message over a
// socket, then decode_request; and replies a member reads with decode_op_msg_reply. Malformed
// messages must throw ProtocolError (the server closes the connection), nothing else; a
// decoded command echoed with encode_reply decodes back to the same bytes.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "server/wire.h"

namespace {

// Socket buffers hold this much without a reader; larger inputs are skipped.
constexpr std::size_t kMaxInput = 64 * 1024;

void decode(const sandbox::RawMessage& message) {
  try {
    const sandbox::Request request = sandbox::decode_request(message);
    const auto reply = sandbox::encode_reply(request, request.command, 1);
    if (!request.legacy) {
      sandbox::RawMessage echoed{1, request.request_id, 0, reply};
      std::memcpy(&echoed.opcode, reply.data() + 12, sizeof echoed.opcode);  // the header's opcode (little-endian host)
      if (!(sandbox::decode_op_msg_reply(echoed) == request.command)) __builtin_trap();
    }
  } catch (const sandbox::ProtocolError&) {
  }
  try {
    (void)sandbox::decode_op_msg_reply(message);
  } catch (const sandbox::ProtocolError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return 0;
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) __builtin_trap();
  if (size > 0 && write(fds[1], data, size) != static_cast<ssize_t>(size)) __builtin_trap();
  shutdown(fds[1], SHUT_WR);
  try {
    sandbox::RawMessage message;
    while (sandbox::read_message(fds[0], message)) decode(message);
  } catch (const sandbox::ProtocolError&) {
  }
  close(fds[0]);
  close(fds[1]);
  return 0;
}

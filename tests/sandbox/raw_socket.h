// A bare TCP connection to a sandbox member for tests that need exact bytes on the wire: what
// a driver would not send (malformed messages, hand-picked $clusterTime) or would rewrite.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "server/wire.h"

namespace shardsafe::testing {

class RawSocket {
 public:
  explicit RawSocket(const std::string& host, long timeout_seconds = 5) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(std::stoi(host.substr(host.find(':') + 1))));
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    timeval timeout{timeout_seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) throw std::runtime_error("connect");
  }
  ~RawSocket() { ::close(fd_); }
  void send(const std::vector<std::uint8_t>& bytes) { sandbox::write_all(fd_, bytes); }
  // The next message, or nothing when the server closed the connection.
  std::optional<sandbox::RawMessage> receive() {
    sandbox::RawMessage message;
    try {
      if (!sandbox::read_message(fd_, message)) return std::nullopt;
    } catch (const sandbox::ProtocolError&) {
      return std::nullopt;
    }
    return message;
  }

 private:
  int fd_ = -1;
};

// Sends `command` (with its $db) as one OP_MSG to "host:port" and returns the reply document.
inline sandbox::Doc raw_command(const std::string& host, const sandbox::Doc& command, long timeout_seconds = 5) {
  RawSocket socket(host, timeout_seconds);
  socket.send(sandbox::encode_op_msg(1, command));
  auto reply = socket.receive();
  if (!reply) throw std::runtime_error("no reply from " + host);
  return sandbox::decode_op_msg_reply(*reply);
}

}  // namespace shardsafe::testing

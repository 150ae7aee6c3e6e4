#include "server/peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fcntl.h>

#include "server/wire.h"

namespace sandbox {
namespace {

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

Doc with_db(const bson_t* command, const char* db) {
  Builder out;
  bson_concat(out.get(), command);
  BSON_APPEND_UTF8(out.get(), "$db", db);
  return out.doc();
}

bool is_ok(const Doc& reply) {
  auto ok = find_field(reply.bson(), "ok");
  return ok && bson_iter_as_double(&*ok) == 1.0;
}

PeerConnection::~PeerConnection() { close(); }

void PeerConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool PeerConnection::connect(const std::string& host, std::chrono::milliseconds timeout) {
  close();
  host_ = host;
  auto colon = host.rfind(':');
  if (colon == std::string::npos) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(std::stoi(host.substr(colon + 1))));
  std::string ip = host.substr(0, colon);
  if (ip == "localhost") ip = "127.0.0.1";
  if (inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) return false;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd waiter{fd, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof error;
    if (::poll(&waiter, 1, static_cast<int>(timeout.count())) == 1 &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) {
      rc = 0;
    }
  }
  if (rc != 0) {
    ::close(fd);
    return false;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
  return true;
}

Doc PeerConnection::run(const Doc& command, std::chrono::milliseconds timeout) {
  if (fd_ < 0) throw ProtocolError("not connected to " + host_);
  try {
    set_timeouts(fd_, timeout);
    int request_id = next_request_id_++;
    write_all(fd_, encode_op_msg(request_id, command));
    RawMessage reply;
    if (!read_message(fd_, reply)) throw ProtocolError("connection to " + host_ + " closed");
    return decode_op_msg_reply(reply);
  } catch (const ProtocolError&) {
    close();
    throw;
  }
}

}  // namespace sandbox

// MongoDB wire protocol framing: reading whole messages from a socket, decoding OP_MSG,
// OP_QUERY (legacy commands on "<db>.$cmd") and OP_COMPRESSED (zlib), and encoding replies
// (OP_MSG or OP_REPLY, compressed again when the request was).
//
// Contract: any malformed message (bad length, unknown section kind, invalid BSON, bad
// checksum, unknown required flag bits) throws ProtocolError; the connection that sent it is
// closed and the server keeps running.
#pragma once

#include <signal.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "query/document.h"

namespace sandbox {

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr std::int32_t kOpReply = 1;
constexpr std::int32_t kOpQuery = 2004;
constexpr std::int32_t kOpCompressed = 2012;
constexpr std::int32_t kOpMsg = 2013;
constexpr std::int32_t kMaxMessageBytes = 48000000;
constexpr std::uint8_t kCompressorNoop = 0;
constexpr std::uint8_t kCompressorZlib = 2;

struct RawMessage {
  std::int32_t request_id = 0;
  std::int32_t response_to = 0;
  std::int32_t opcode = 0;
  std::vector<std::uint8_t> bytes;  // the whole message, header included
};

// Reads one message. Returns false on a clean end of stream before a header; throws
// ProtocolError on a short read inside a message or a length outside [16, 48 MB].
bool read_message(int fd, RawMessage& message);
void write_all(int fd, const std::vector<std::uint8_t>& bytes);  // throws ProtocolError

// A listening TCP socket on bind_ip:port ("localhost" means 127.0.0.1), or -1 when the address
// cannot be bound (mongod and mongos then exit with code 48).
int listen_tcp(const std::string& bind_ip, int port);

// Accepts connections on `listen_fd` until accepting fails for good, serving each on its own
// detached thread as serve(fd, connection id) with TCP_NODELAY set; out of file descriptors,
// it waits 50 ms and tries again. Shared by mongod and mongos; run it on its own thread.
void accept_connections(int listen_fd, const std::function<void(int fd, std::int64_t connection_id)>& serve);

// SIGTERM and SIGINT, blocked in the constructing thread (and so in every thread it starts
// afterwards) and taken synchronously by wait(), so shutdown runs in one known place; SIGPIPE
// is ignored (a client closing its socket must not kill the server). Shared by mongod and mongos.
class StopSignals {
 public:
  StopSignals();
  int wait();  // blocks until one arrives; returns its number

 private:
  sigset_t signals_;
};

// A decoded command request.
struct Request {
  Doc command;                 // kind-0 body with kind-1 sequences merged in as arrays
  std::string db;              // $db (OP_MSG) or the part before ".$cmd" (OP_QUERY)
  std::int32_t request_id = 0;
  bool legacy = false;         // OP_QUERY: answer with OP_REPLY
  bool more_to_come = false;   // OP_MSG moreToCome: the client expects no reply
  bool checksum = false;       // the request carried a CRC-32C: reply with one too
  bool secondary_ok = false;   // OP_QUERY SecondaryOk flag or a non-primary $readPreference
  std::uint8_t compressor = kCompressorNoop;  // reply compressed the same way
};

Request decode_request(const RawMessage& message);
std::vector<std::uint8_t> encode_reply(const Request& request, const Doc& reply,
                                       std::int32_t reply_id);

// Client side, used by members talking to each other.
std::vector<std::uint8_t> encode_op_msg(std::int32_t request_id, const Doc& command);
Doc decode_op_msg_reply(const RawMessage& message);

std::uint32_t crc32c(const std::uint8_t* data, std::size_t size);

}  // namespace sandbox

// A minimal client for members talking to each other (heartbeats, votes, oplog fetching):
// one blocking TCP connection that sends OP_MSG commands and reads their replies, with a
// timeout on every send and receive.
#pragma once

#include <chrono>
#include <string>

#include "query/document.h"
#include "server/bson_util.h"

namespace sandbox {

// `command` with "$db": db appended.
Doc with_db(const bson_t* command, const char* db);
// Whether a reply has ok: 1.
bool is_ok(const Doc& reply);

class PeerConnection {
 public:
  PeerConnection() = default;
  ~PeerConnection();
  PeerConnection(const PeerConnection&) = delete;
  PeerConnection& operator=(const PeerConnection&) = delete;

  // Connects to "host:port" (closing any previous connection). Returns false on failure.
  bool connect(const std::string& host, std::chrono::milliseconds timeout);
  bool connected() const { return fd_ >= 0; }
  const std::string& host() const { return host_; }
  void close();

  // Runs `command` (which must carry $db). Throws ProtocolError on network failure or
  // timeout (the connection is closed then); returns the reply, ok or not.
  Doc run(const Doc& command, std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  int next_request_id_ = 1;
  std::string host_;
};

}  // namespace sandbox

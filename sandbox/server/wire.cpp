#include "server/wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <netinet/tcp.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "server/bson_util.h"
#include "server/log.h"

namespace sandbox {
namespace {

constexpr std::uint32_t kChecksumPresent = 1u << 0;
constexpr std::uint32_t kMoreToCome = 1u << 1;
constexpr std::uint32_t kExhaustAllowed = 1u << 16;
constexpr std::int32_t kQuerySecondaryOk = 4;
constexpr std::int32_t kReplyAwaitCapable = 8;

std::int32_t load_i32(const std::uint8_t* p) {
  std::uint32_t value = static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                        static_cast<std::uint32_t>(p[2]) << 16 |
                        static_cast<std::uint32_t>(p[3]) << 24;
  return static_cast<std::int32_t>(value);
}

void put_i32(std::vector<std::uint8_t>& out, std::int32_t value) {
  auto bits = static_cast<std::uint32_t>(value);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
}

void store_i32(std::uint8_t* p, std::int32_t value) {
  auto bits = static_cast<std::uint32_t>(value);
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(bits >> (8 * i));
}

bool read_exact(int fd, std::uint8_t* data, std::size_t size, bool allow_eof) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::recv(fd, data + done, size - done, 0);
    if (n == 0) {
      if (allow_eof && done == 0) return false;
      throw ProtocolError("connection closed inside a message");
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (allow_eof && done == 0) return false;
      throw ProtocolError(std::string("recv failed: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// A validated BSON document at [p, end): its declared length must fit and parse.
Doc take_document(const std::uint8_t*& p, const std::uint8_t* end) {
  if (end - p < 5) throw ProtocolError("truncated BSON document");
  std::int32_t length = load_i32(p);
  if (length < 5 || length > end - p) throw ProtocolError("BSON document length out of range");
  bson_t view;
  if (!bson_init_static(&view, p, static_cast<std::size_t>(length)) ||
      !bson_validate(&view, BSON_VALIDATE_NONE, nullptr)) {
    throw ProtocolError("invalid BSON document");
  }
  Doc doc = Doc::from_bytes(p, static_cast<std::size_t>(length));
  p += length;
  return doc;
}

std::string take_cstring(const std::uint8_t*& p, const std::uint8_t* end) {
  const auto* nul = static_cast<const std::uint8_t*>(std::memchr(p, 0, static_cast<std::size_t>(end - p)));
  if (nul == nullptr) throw ProtocolError("unterminated string");
  std::string value(reinterpret_cast<const char*>(p), static_cast<std::size_t>(nul - p));
  p = nul + 1;
  return value;
}

// A $readPreference other than primary allows reads on a secondary.
bool read_preference_allows_secondary(const bson_t* command) {
  auto preference = find_field(command, "$readPreference");
  if (!preference || !BSON_ITER_HOLDS_DOCUMENT(&*preference)) return false;
  // The outer document validated, yet an embedded one can still be malformed (found by
  // fuzzing): that is the message's fault, as for any other invalid BSON it carries.
  bson_iter_t field;
  if (!bson_iter_recurse(&*preference, &field)) throw ProtocolError("invalid $readPreference document");
  if (!bson_iter_find(&field, "mode") || !BSON_ITER_HOLDS_UTF8(&field)) return false;
  return std::strcmp(bson_iter_utf8(&field, nullptr), "primary") != 0;
}

Request decode_op_msg(const RawMessage& message) {
  const std::uint8_t* p = message.bytes.data() + 16;
  const std::uint8_t* end = message.bytes.data() + message.bytes.size();
  if (end - p < 5) throw ProtocolError("OP_MSG too short");
  auto flags = static_cast<std::uint32_t>(load_i32(p));
  p += 4;
  if ((flags & 0xffffu & ~(kChecksumPresent | kMoreToCome)) != 0) {
    throw ProtocolError("OP_MSG has unknown required flag bits");
  }
  (void)kExhaustAllowed;  // allowed, and ignored: replies never stream
  Request request;
  request.request_id = message.request_id;
  request.more_to_come = (flags & kMoreToCome) != 0;
  request.checksum = (flags & kChecksumPresent) != 0;
  if (request.checksum) {
    if (end - p < 4) throw ProtocolError("OP_MSG checksum missing");
    end -= 4;
    auto expected = static_cast<std::uint32_t>(load_i32(end));
    if (crc32c(message.bytes.data(), message.bytes.size() - 4) != expected) {
      throw ProtocolError("OP_MSG checksum mismatch");
    }
  }
  std::optional<Doc> body;
  std::vector<std::pair<std::string, std::vector<Doc>>> sequences;
  while (p < end) {
    std::uint8_t kind = *p++;
    if (kind == 0) {
      if (body) throw ProtocolError("OP_MSG has more than one body section");
      body = take_document(p, end);
    } else if (kind == 1) {
      if (end - p < 4) throw ProtocolError("truncated document sequence");
      std::int32_t size = load_i32(p);
      if (size < 5 || size > end - p) throw ProtocolError("document sequence size out of range");
      const std::uint8_t* section_end = p + size;
      p += 4;
      std::string identifier = take_cstring(p, section_end);
      std::vector<Doc> documents;
      while (p < section_end) documents.push_back(take_document(p, section_end));
      sequences.emplace_back(std::move(identifier), std::move(documents));
    } else {
      throw ProtocolError("unknown OP_MSG section kind " + std::to_string(kind));
    }
  }
  if (!body) throw ProtocolError("OP_MSG has no body section");
  if (sequences.empty()) {
    request.command = std::move(*body);
  } else {
    Builder merged;
    bson_concat(merged.get(), body->bson());
    for (const auto& [identifier, documents] : sequences) {
      bson_t array;
      bson_append_array_begin(merged.get(), identifier.c_str(), -1, &array);
      char key_buffer[16];
      for (std::size_t i = 0; i < documents.size(); ++i) {
        const char* key = nullptr;
        std::size_t key_length = bson_uint32_to_string(static_cast<std::uint32_t>(i), &key,
                                                        key_buffer, sizeof key_buffer);
        bson_append_document(&array, key, static_cast<int>(key_length), documents[i].bson());
      }
      bson_append_array_end(merged.get(), &array);
    }
    request.command = merged.doc();
  }
  auto db = get_string(request.command.bson(), "$db");
  if (!db) throw ProtocolError("OP_MSG command without $db");
  request.db = *db;
  request.secondary_ok = read_preference_allows_secondary(request.command.bson());
  return request;
}

Request decode_op_query(const RawMessage& message) {
  const std::uint8_t* p = message.bytes.data() + 16;
  const std::uint8_t* end = message.bytes.data() + message.bytes.size();
  if (end - p < 4) throw ProtocolError("OP_QUERY too short");
  std::int32_t flags = load_i32(p);
  p += 4;
  std::string collection = take_cstring(p, end);
  if (end - p < 8) throw ProtocolError("OP_QUERY too short");
  p += 8;  // numberToSkip, numberToReturn: a command returns one document
  Doc query = take_document(p, end);
  Request request;
  request.request_id = message.request_id;
  request.legacy = true;
  request.secondary_ok = (flags & kQuerySecondaryOk) != 0;
  const std::string suffix = ".$cmd";
  if (collection.size() <= suffix.size() ||
      collection.compare(collection.size() - suffix.size(), suffix.size(), suffix) != 0) {
    // Legacy OP_QUERY finds were removed in MongoDB 5.1; answer as a command error.
    request.db = collection.substr(0, collection.find('.'));
    Builder unsupported;
    BSON_APPEND_INT32(unsupported.get(), "$legacyFind", 1);
    request.command = unsupported.doc();
    return request;
  }
  request.db = collection.substr(0, collection.size() - suffix.size());
  // Drivers wrap commands as {$query: cmd, $readPreference: ...} when they carry a preference.
  if (auto wrapped = get_document(query.bson(), "$query")) {
    request.secondary_ok = request.secondary_ok || read_preference_allows_secondary(query.bson());
    request.command = std::move(*wrapped);
  } else {
    request.command = std::move(query);
  }
  return request;
}

RawMessage decompress(const RawMessage& message) {
  const std::uint8_t* p = message.bytes.data() + 16;
  const std::uint8_t* end = message.bytes.data() + message.bytes.size();
  if (end - p < 9) throw ProtocolError("OP_COMPRESSED too short");
  std::int32_t original_opcode = load_i32(p);
  std::int32_t uncompressed_size = load_i32(p + 4);
  std::uint8_t compressor = p[8];
  p += 9;
  if (uncompressed_size < 0 || uncompressed_size > kMaxMessageBytes) {
    throw ProtocolError("OP_COMPRESSED size out of range");
  }
  RawMessage inner;
  inner.request_id = message.request_id;
  inner.response_to = message.response_to;
  inner.opcode = original_opcode;
  inner.bytes.assign(message.bytes.begin(), message.bytes.begin() + 16);
  inner.bytes.resize(16 + static_cast<std::size_t>(uncompressed_size));
  if (compressor == kCompressorNoop) {
    if (end - p != uncompressed_size) throw ProtocolError("OP_COMPRESSED noop size mismatch");
    std::memcpy(inner.bytes.data() + 16, p, static_cast<std::size_t>(uncompressed_size));
  } else if (compressor == kCompressorZlib) {
    uLongf length = static_cast<uLongf>(uncompressed_size);
    if (uncompress(inner.bytes.data() + 16, &length, p, static_cast<uLong>(end - p)) != Z_OK ||
        length != static_cast<uLongf>(uncompressed_size)) {
      throw ProtocolError("OP_COMPRESSED zlib data is corrupt");
    }
  } else {
    throw ProtocolError("unsupported compressor id " + std::to_string(compressor));
  }
  store_i32(inner.bytes.data(), static_cast<std::int32_t>(inner.bytes.size()));
  store_i32(inner.bytes.data() + 12, original_opcode);
  return inner;
}

std::vector<std::uint8_t> header(std::int32_t request_id, std::int32_t response_to,
                                 std::int32_t opcode) {
  std::vector<std::uint8_t> out;
  put_i32(out, 0);  // length, patched by finish()
  put_i32(out, request_id);
  put_i32(out, response_to);
  put_i32(out, opcode);
  return out;
}

void finish(std::vector<std::uint8_t>& out) {
  store_i32(out.data(), static_cast<std::int32_t>(out.size()));
}

std::vector<std::uint8_t> compress_message(const std::vector<std::uint8_t>& plain) {
  std::int32_t opcode = load_i32(plain.data() + 12);
  uLongf bound = compressBound(static_cast<uLong>(plain.size() - 16));
  std::vector<std::uint8_t> out = header(load_i32(plain.data() + 4), load_i32(plain.data() + 8),
                                         kOpCompressed);
  put_i32(out, opcode);
  put_i32(out, static_cast<std::int32_t>(plain.size() - 16));
  out.push_back(kCompressorZlib);
  std::size_t offset = out.size();
  out.resize(offset + bound);
  if (compress2(out.data() + offset, &bound, plain.data() + 16,
                static_cast<uLong>(plain.size() - 16), Z_BEST_SPEED) != Z_OK) {
    return plain;  // cannot happen with a compressBound buffer; an uncompressed reply is valid
  }
  out.resize(offset + bound);
  finish(out);
  return out;
}

}  // namespace

bool read_message(int fd, RawMessage& message) {
  std::uint8_t head[16];
  if (!read_exact(fd, head, sizeof head, true)) return false;
  std::int32_t length = load_i32(head);
  if (length < 16 || length > kMaxMessageBytes) {
    throw ProtocolError("message length " + std::to_string(length) + " out of range");
  }
  message.request_id = load_i32(head + 4);
  message.response_to = load_i32(head + 8);
  message.opcode = load_i32(head + 12);
  message.bytes.assign(head, head + 16);
  message.bytes.resize(static_cast<std::size_t>(length));
  read_exact(fd, message.bytes.data() + 16, message.bytes.size() - 16, false);
  return true;
}

void write_all(int fd, const std::vector<std::uint8_t>& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ProtocolError(std::string("send failed: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

Request decode_request(const RawMessage& message) {
  switch (message.opcode) {
    case kOpMsg: return decode_op_msg(message);
    case kOpQuery: return decode_op_query(message);
    case kOpCompressed: {
      RawMessage inner = decompress(message);
      if (inner.opcode == kOpCompressed) throw ProtocolError("nested OP_COMPRESSED");
      Request request = decode_request(inner);
      request.compressor = message.bytes[16 + 8];
      return request;
    }
    default: throw ProtocolError("unsupported opcode " + std::to_string(message.opcode));
  }
}

std::vector<std::uint8_t> encode_reply(const Request& request, const Doc& reply,
                                       std::int32_t reply_id) {
  std::vector<std::uint8_t> out;
  if (request.legacy) {
    out = header(reply_id, request.request_id, kOpReply);
    put_i32(out, kReplyAwaitCapable);
    for (int i = 0; i < 8; ++i) out.push_back(0);  // cursorID
    put_i32(out, 0);                               // startingFrom
    put_i32(out, 1);                               // numberReturned
    out.insert(out.end(), reply.data(), reply.data() + reply.size());
    finish(out);
  } else {
    out = header(reply_id, request.request_id, kOpMsg);
    put_i32(out, request.checksum ? static_cast<std::int32_t>(kChecksumPresent) : 0);
    out.push_back(0);
    out.insert(out.end(), reply.data(), reply.data() + reply.size());
    if (request.checksum) put_i32(out, 0);
    finish(out);
    if (request.checksum) {
      store_i32(out.data() + out.size() - 4,
                static_cast<std::int32_t>(crc32c(out.data(), out.size() - 4)));
    }
  }
  if (request.compressor == kCompressorZlib && !request.checksum) return compress_message(out);
  return out;
}

std::vector<std::uint8_t> encode_op_msg(std::int32_t request_id, const Doc& command) {
  std::vector<std::uint8_t> out = header(request_id, 0, kOpMsg);
  put_i32(out, 0);
  out.push_back(0);
  out.insert(out.end(), command.data(), command.data() + command.size());
  finish(out);
  return out;
}

Doc decode_op_msg_reply(const RawMessage& message) {
  if (message.opcode == kOpCompressed) return decode_op_msg_reply(decompress(message));
  if (message.opcode != kOpMsg) throw ProtocolError("expected an OP_MSG reply");
  const std::uint8_t* p = message.bytes.data() + 20;
  const std::uint8_t* end = message.bytes.data() + message.bytes.size();
  if (p >= end || *p++ != 0) throw ProtocolError("OP_MSG reply without a body section");
  return take_document(p, end);
}

std::uint32_t crc32c(const std::uint8_t* data, std::size_t size) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> entries{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t crc = i;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0u);
      entries[i] = crc;
    }
    return entries;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xffu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

int listen_tcp(const std::string& bind_ip, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const std::string ip = bind_ip == "localhost" ? "127.0.0.1" : bind_ip;
  if (inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 128) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void accept_connections(int listen_fd, const std::function<void(int fd, std::int64_t connection_id)>& serve) {
  std::int64_t next_connection_id = 1;
  while (true) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      log_line(std::string("accept failed: ") + std::strerror(errno));
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread(serve, fd, next_connection_id++).detach();
  }
}

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int StopSignals::wait() {
  int received = 0;
  sigwait(&signals_, &received);
  return received;
}

}  // namespace sandbox

#include "storage/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iterator>
#include <optional>
#include <stdexcept>

namespace shardsafe::storage::testing {
namespace {

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The value of header `name` in a header block, or "".
std::string header_value(const std::string& head, const std::string& name) {
  const auto lowered = lower(head);
  const auto at = lowered.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  const auto start = at + name.size() + 3;
  const auto end = head.find("\r\n", start);
  auto value = head.substr(start, end - start);
  value.erase(0, value.find_first_not_of(' '));
  return value;
}

struct Message {
  std::string head;  // through the blank line
  std::string body;
};

// Reads a header block and, when it declares one, a Content-Length body. `leftover` holds
// bytes read past the header block.
std::optional<Message> read_message(int fd, bool read_body) {
  Message message;
  std::string buffer;
  char chunk[65536];
  std::size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    const auto got = ::recv(fd, chunk, sizeof(chunk), 0);
    if (got <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<std::size_t>(got));
  }
  message.head = buffer.substr(0, head_end + 4);
  message.body = buffer.substr(head_end + 4);
  const auto length_text = header_value(message.head, "content-length");
  const std::size_t length = length_text.empty() ? 0 : std::stoull(length_text);
  while (read_body && message.body.size() < length) {
    const auto got = ::recv(fd, chunk, sizeof(chunk), 0);
    if (got <= 0) return std::nullopt;
    message.body.append(chunk, static_cast<std::size_t>(got));
  }
  return message;
}

std::string error_response(int status, const char* reason, const char* code) {
  const std::string body = std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>") + code +
                           "</Code><Message>injected by the fault proxy</Message></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/xml\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// The request head with any Connection header replaced by "Connection: close".
std::string closing(const std::string& head) {
  std::string out;
  std::size_t start = 0;
  while (start < head.size()) {
    const auto end = head.find("\r\n", start);
    const auto line = head.substr(start, end - start);
    start = end + 2;
    if (line.empty()) break;
    if (lower(line).starts_with("connection:")) continue;
    out += line + "\r\n";
  }
  return out + "Connection: close\r\n\r\n";
}

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Relays the request upstream and the response back; with `truncate`, only the response
// head and half its body are passed on before the connection is closed.
void relay(int client, const Message& request, int upstream_port, bool truncate) {
  const int upstream = connect_loopback(upstream_port);
  if (upstream < 0) return;
  if (send_all(upstream, closing(request.head)) && send_all(upstream, request.body)) {
    if (truncate) {
      if (auto response = read_message(upstream, true)) {
        send_all(client, response->head);
        send_all(client, std::string_view(response->body).substr(0, response->body.size() / 2));
      }
    } else {
      char chunk[65536];
      for (ssize_t got; (got = ::recv(upstream, chunk, sizeof(chunk), 0)) > 0;) {
        if (!send_all(client, std::string_view(chunk, static_cast<std::size_t>(got)))) break;
      }
    }
  }
  ::close(upstream);
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;  // a free port
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || ::listen(listener_, 64) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    throw std::runtime_error("fault proxy cannot listen");
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  ::close(listener_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    for (const int client : clients_) ::shutdown(client, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& thread : threads) thread.join();
}

void FaultProxy::add(FaultRule rule) {
  std::lock_guard lock(mutex_);
  rules_.push_back(std::move(rule));
}

int FaultProxy::requests_seen(const std::string& method, const std::string& target_contains) {
  return static_cast<int>(request_heads(method, target_contains).size());
}

std::vector<std::string> FaultProxy::request_heads(const std::string& method, const std::string& target_contains) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> heads;
  std::copy_if(seen_.begin(), seen_.end(), std::back_inserter(heads), [&](const std::string& head) {
    const auto request_line = head.substr(0, head.find('\r'));
    return (method.empty() || request_line.starts_with(method + " ")) &&
           request_line.find(target_contains) != std::string::npos;
  });
  return heads;
}

Fault FaultProxy::next_fault(const std::string& head, const std::string& method, const std::string& target) {
  std::lock_guard lock(mutex_);
  seen_.push_back(head);
  for (auto& rule : rules_) {
    if (rule.times == 0) continue;
    if (!rule.method.empty() && rule.method != method) continue;
    if (!rule.target_contains.empty() && target.find(rule.target_contains) == std::string::npos) continue;
    if (rule.times > 0) --rule.times;
    ++injected_;
    return rule.fault;
  }
  return Fault::kNone;
}

void FaultProxy::accept_loop() {
  while (!stopping_) {
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard lock(mutex_);
    clients_.push_back(client);
    threads_.emplace_back([this, client] { serve(client); });
  }
}

void FaultProxy::serve(int client) {
  if (auto request = read_message(client, true)) {
    const auto& head = request->head;
    const auto method = head.substr(0, head.find(' '));
    const auto target_start = head.find(' ') + 1;
    const auto target = head.substr(target_start, head.find(' ', target_start) - target_start);
    switch (next_fault(head, method, target)) {
      case Fault::kNone:
        relay(client, *request, upstream_port_, false);
        break;
      case Fault::kTruncateBody:
        relay(client, *request, upstream_port_, true);
        break;
      case Fault::kInternalError:
        send_all(client, error_response(500, "Internal Server Error", "InternalError"));
        break;
      case Fault::kAccessDenied:
        send_all(client, error_response(403, "Forbidden", "AccessDenied"));
        break;
      case Fault::kSlowDown:
        send_all(client, error_response(503, "Slow Down", "SlowDown"));
        break;
      case Fault::kStall: {
        // Say nothing until the client gives up (its stall timeout) or the proxy stops.
        pollfd p{client, POLLIN, 0};
        while (!stopping_ && ::poll(&p, 1, 100) == 0) {
        }
        break;
      }
      case Fault::kDrop:
        break;
    }
  }
  std::lock_guard lock(mutex_);
  clients_.erase(std::remove(clients_.begin(), clients_.end(), client), clients_.end());
  ::close(client);
}

}  // namespace shardsafe::storage::testing

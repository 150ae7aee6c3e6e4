#include "storage/s3/http.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/error.h"
#include "storage/s3/retry.h"

namespace shardsafe::storage::s3 {
namespace {

// curl_global_init is not thread-safe; do it once before any handle exists.
void ensure_curl_initialised() {
  static const bool initialised = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  if (!initialised) throw Error(ErrorCode::kInternal, "curl_global_init failed");
}

struct UploadCursor {
  std::span<const std::uint8_t> remaining;
};

std::size_t read_body(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* cursor = static_cast<UploadCursor*>(user);
  const auto n = std::min(size * count, cursor->remaining.size());
  std::memcpy(buffer, cursor->remaining.data(), n);
  cursor->remaining = cursor->remaining.subspan(n);
  return n;
}

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t write_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) headers->clear();  // a new response (after 100 Continue)
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    (*headers)[name] = std::string(value);
  }
  return size * count;
}

ErrorCode code_for(CURLcode result) {
  switch (result) {
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorCode::kTimeout;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
      return ErrorCode::kConnection;
    default:
      return ErrorCode::kStorage;
  }
}

// Failures of the network or the peer mid-transfer, which a new attempt can get past; the
// rest (a malformed URL, an unsupported protocol, a bad certificate) would fail again.
bool is_transient(CURLcode result) {
  switch (result) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

void HeaderList::add(const std::string& line) {
  auto* appended = curl_slist_append(list_, line.c_str());
  if (appended == nullptr) throw Error(ErrorCode::kInternal, "out of memory building HTTP headers");
  list_ = appended;
}

HttpClient::HttpClient(HttpTimeouts timeouts, std::string ca_file) : timeouts_(timeouts), ca_file_(std::move(ca_file)) {
  ensure_curl_initialised();
}

CurlHandle HttpClient::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  CurlHandle handle(curl_easy_init());
  if (!handle) throw Error(ErrorCode::kInternal, "curl_easy_init failed");
  return handle;
}

void HttpClient::release(CurlHandle handle) {
  curl_easy_reset(handle.get());  // keeps the connection cache
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(handle));
}

HttpResponse HttpClient::perform(const HttpRequest& request, const std::string& what) {
  auto handle = acquire();
  CURL* curl = handle.get();
  HttpResponse response;
  response.body.reserve(request.expected_response_size);
  UploadCursor upload{request.body};
  HeaderList headers;
  for (const auto& [name, value] : request.headers) headers.add(name + ": " + value);
  headers.add("Expect:");  // no 100-continue round trip before every body

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeouts_.connect.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(timeouts_.stall.count()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  if (!ca_file_.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, write_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    // Bodies are megabytes: curl's default 64 KiB upload buffer meant a read callback and a
    // send() per 64 KiB, which left a single PUT at 0.86-0.88x the curl command's speed.
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const auto result = curl_easy_perform(curl);
  if (result != CURLE_OK) {
    // The connection may be broken: drop the handle rather than pool it.
    auto message = what + ": " + curl_easy_strerror(result);
    if (result == CURLE_PEER_FAILED_VERIFICATION) {
      message += " (the endpoint's TLS certificate is not trusted; if a private CA signed it, set ca_file to its PEM file)";
    }
    if (result == CURLE_SSL_CACERT_BADFILE) message += " (ca_file \"" + ca_file_ + "\")";
    if (is_transient(result)) throw TransientError(code_for(result), message);
    throw Error(code_for(result), message);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  release(std::move(handle));
  return response;
}

}  // namespace shardsafe::storage::s3

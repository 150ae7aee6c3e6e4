// HTTP over libcurl for the S3 driver: RAII for CURL* and curl_slist, a pool of easy handles
// (so connections are kept alive and reused), and one call that performs a request.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace shardsafe::storage::s3 {

struct CurlDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

// A curl_slist of header lines, freed with the object.
class HeaderList {
 public:
  HeaderList() = default;
  ~HeaderList() { curl_slist_free_all(list_); }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  void add(const std::string& line);
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

struct HttpRequest {
  std::string method;                                  // GET, PUT, POST, HEAD, DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::span<const std::uint8_t> body;                  // not owned
  std::size_t expected_response_size = 0;              // reserved up front when known
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct HttpTimeouts {
  std::chrono::milliseconds connect{10'000};
  // A transfer slower than 1 byte/s for this long is abandoned (a stalled server).
  std::chrono::seconds stall{60};
};

class HttpClient {
 public:
  // `ca_file`: a PEM bundle to trust instead of the system's; empty for the system's.
  HttpClient(HttpTimeouts timeouts, std::string ca_file);
  // Performs the request. Network failures (refused, reset, timeout, short body) throw
  // TransientError naming `what`; HTTP error statuses are returned, not thrown.
  // Thread-safe: each call borrows its own handle.
  HttpResponse perform(const HttpRequest& request, const std::string& what);

 private:
  CurlHandle acquire();
  void release(CurlHandle handle);

  HttpTimeouts timeouts_;
  std::string ca_file_;
  std::mutex mutex_;
  std::vector<CurlHandle> idle_;  // GUARDED_BY(mutex_)
};

}  // namespace shardsafe::storage::s3

// AWS Signature Version 4 for S3 requests (Authorization header form), on OpenSSL.
// Reference: "Signature Calculations for the Authorization Header" in the S3 API reference;
// tests/storage/sigv4_test.cpp checks this code against that page's example signatures.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shardsafe::storage::s3 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty unless temporary credentials
};

using Parameters = std::vector<std::pair<std::string, std::string>>;

struct SignableRequest {
  std::string method;          // "GET", "PUT", ...
  std::string path;            // URI-encoded once, as sent: "/bucket/a%20b"
  Parameters query;            // decoded names and values
  Parameters headers;          // must include host and x-amz-date; names in any case
  std::string payload_sha256;  // lowercase hex, or "UNSIGNED-PAYLOAD"
};

inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// RFC 3986 percent-encoding of everything but unreserved characters (and '/' when
// keep_slash), upper-case hex: SigV4's UriEncode.
std::string uri_encode(std::string_view text, bool keep_slash);

// "name=value&..." sorted by encoded name then value, both encoded.
std::string canonical_query(const Parameters& query);

std::string canonical_request(const SignableRequest& request);
std::string string_to_sign(const SignableRequest& request, std::string_view amz_date, std::string_view region);

// The Authorization header value. REQUIRES: request.headers holds x-amz-date = amz_date.
std::string authorization(const SignableRequest& request, const Credentials& credentials,
                          std::string_view amz_date, std::string_view region);

// "20130524T000000Z"
std::string amz_date(std::chrono::system_clock::time_point time);
// "2013-05-24T00:00:00Z" or "2013-05-24T00:00:00.000Z" (UTC), as S3 listings and AWS
// credential endpoints write times; the epoch when it does not parse.
std::chrono::system_clock::time_point parse_iso8601(const std::string& text);

}  // namespace shardsafe::storage::s3

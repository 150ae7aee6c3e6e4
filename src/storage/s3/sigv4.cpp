#include "storage/s3/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/clock.h"
#include "storage/hash.h"

namespace shardsafe::storage::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kService = "s3";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Header values are trimmed and inner runs of spaces collapse to one.
std::string trim_value(std::string_view value) {
  std::string out;
  bool space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

Parameters canonical_headers(const Parameters& headers) {
  Parameters out;
  for (const auto& [name, value] : headers) out.emplace_back(lower(name), trim_value(value));
  std::sort(out.begin(), out.end());
  return out;
}

std::string signed_header_names(const Parameters& canonical) {
  std::string names;
  for (const auto& [name, value] : canonical) {
    if (!names.empty()) names += ';';
    names += name;
  }
  return names;
}

std::string scope(std::string_view amz_date, std::string_view region) {
  return std::string(amz_date.substr(0, 8)) + "/" + std::string(region) + "/" + std::string(kService) + "/aws4_request";
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string canonical_query(const Parameters& query) {
  Parameters encoded;
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

std::string canonical_request(const SignableRequest& request) {
  const auto headers = canonical_headers(request.headers);
  std::string out = request.method + "\n" + request.path + "\n" + canonical_query(request.query) + "\n";
  for (const auto& [name, value] : headers) out += name + ":" + value + "\n";
  out += "\n" + signed_header_names(headers) + "\n" + request.payload_sha256;
  return out;
}

std::string string_to_sign(const SignableRequest& request, std::string_view amz_date, std::string_view region) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" + scope(amz_date, region) + "\n" +
         sha256_hex(as_bytes(canonical_request(request)));
}

std::string authorization(const SignableRequest& request, const Credentials& credentials,
                          std::string_view amz_date, std::string_view region) {
  const std::string secret = "AWS4" + credentials.secret_key;
  auto key = hmac_sha256(as_bytes(secret), as_bytes(amz_date.substr(0, 8)));
  key = hmac_sha256(key, as_bytes(region));
  key = hmac_sha256(key, as_bytes(kService));
  key = hmac_sha256(key, as_bytes("aws4_request"));
  const auto signature = to_hex(hmac_sha256(key, as_bytes(string_to_sign(request, amz_date, region))));
  return std::string(kAlgorithm) + " Credential=" + credentials.access_key + "/" + scope(amz_date, region) +
         ",SignedHeaders=" + signed_header_names(canonical_headers(request.headers)) + ",Signature=" + signature;
}

std::string amz_date(std::chrono::system_clock::time_point time) { return utc_time(time, "%Y%m%dT%H%M%SZ"); }

std::chrono::system_clock::time_point parse_iso8601(const std::string& text) {
  std::tm parts{};
  if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &parts) == nullptr) return {};
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

}  // namespace shardsafe::storage::s3

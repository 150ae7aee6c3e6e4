#include "storage/s3/s3_client.h"

#include <openssl/rand.h>

#include <array>
#include <ctime>

#include "common/error.h"
#include "common/numbers.h"
#include "storage/hash.h"
#include "storage/s3/xml.h"

namespace shardsafe::storage::s3 {
namespace {

// A size the server sent; a server that sends something else is a storage error, not a bug.
std::uint64_t object_size(const std::string& text, const std::string& what) {
  const auto size = parse_uint64(text);
  if (!size) throw Error(ErrorCode::kStorage, what + " is not a size: \"" + text.substr(0, 40) + "\"");
  return *size;
}

std::string quoted(const std::string& key) { return "\"" + key + "\""; }

std::chrono::system_clock::time_point parse_http_date(const std::string& text) {
  const auto seconds = curl_getdate(text.c_str(), nullptr);
  return seconds < 0 ? std::chrono::system_clock::time_point{} : std::chrono::system_clock::from_time_t(seconds);
}

bool is_transient(long status, const std::string& code) {
  return status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout" ||
         code == "InternalError";
}

[[noreturn]] void fail(long status, const std::string& body, const std::string& what) {
  const auto code = xml_text(body, "Code").value_or("");
  const auto message = xml_text(body, "Message").value_or("");
  std::string detail = what + ": HTTP " + std::to_string(status);
  if (!code.empty()) detail += " " + code;
  if (!message.empty()) detail += " (" + message + ")";
  if (is_transient(status, code)) throw TransientError(ErrorCode::kStorage, detail);
  if (status == 404) throw Error(ErrorCode::kNotFound, detail);
  if (status == 412) throw Error(ErrorCode::kConflict, detail + ": the object changed while being read");
  throw Error(ErrorCode::kStorage, detail);
}

// "http://host:port/..." -> {"http://host:port", "host:port"}
std::pair<std::string, std::string> split_endpoint(const std::string& endpoint) {
  const auto scheme_end = endpoint.find("://");
  const auto host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto host_end = endpoint.find('/', host_start);
  const auto host = endpoint.substr(host_start, host_end - host_start);
  return {endpoint.substr(0, host_start) + host, host};
}

// Metadata of objects made by a multipart upload: the upload's token.
constexpr const char* kUploadTokenHeader = "x-amz-meta-shardsafe-upload";

std::string random_token() {
  std::array<std::uint8_t, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw Error(ErrorCode::kInternal, "no random bytes for a multipart upload token");
  }
  return to_hex(bytes);
}

}  // namespace

S3Client::S3Client(S3Config config) : config_(std::move(config)), http_(config_.timeouts, config_.ca_file) {
  auto [origin, host] = split_endpoint(config_.endpoint);
  if (!config_.path_style) {
    const auto scheme_end = origin.find("://") + 3;
    origin.insert(scheme_end, config_.bucket + ".");
    host = config_.bucket + "." + host;
  }
  origin_ = origin;
  host_ = host;
}

HttpResponse S3Client::send(const Call& call, const std::string& what, bool accept_404) {
  std::string path = config_.path_style ? "/" + uri_encode(config_.bucket, false) : "";
  if (!call.key.empty() || path.empty()) path += "/" + uri_encode(call.key, true);
  const auto payload = !config_.sign_payload         ? std::string("UNSIGNED-PAYLOAD")
                       : !call.body_sha256.empty() ? call.body_sha256
                                                   : sha256_hex(call.body);
  const auto date = amz_date(std::chrono::system_clock::now());

  const auto credentials = config_.credentials.current();

  SignableRequest signable{call.method, path, call.query, call.headers, payload};
  signable.headers.emplace_back("host", host_);
  signable.headers.emplace_back("x-amz-date", date);
  signable.headers.emplace_back("x-amz-content-sha256", payload);
  if (!credentials.session_token.empty()) signable.headers.emplace_back("x-amz-security-token", credentials.session_token);
  HttpRequest request{call.method, origin_ + path, signable.headers, call.body, call.expected_response_size};
  const auto query = canonical_query(call.query);
  if (!query.empty()) request.url += "?" + query;
  request.headers.emplace_back("Authorization", authorization(signable, credentials, date, config_.region));

  auto response = http_.perform(request, what);
  if (response.status / 100 == 2 || (accept_404 && response.status == 404)) return response;
  fail(response.status, response.body, what);
}

HttpResponse S3Client::call(const Call& call, const std::string& what, bool accept_404) {
  HttpResponse response;
  config_.retry.run(what, [&] { response = send(call, what, accept_404); });
  return response;
}

Parameters S3Client::object_headers() const {
  Parameters headers;
  if (!config_.storage_class.empty()) headers.emplace_back("x-amz-storage-class", config_.storage_class);
  if (!config_.sse.empty()) headers.emplace_back("x-amz-server-side-encryption", config_.sse);
  if (!config_.sse_kms_key_id.empty()) {
    headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", config_.sse_kms_key_id);
  }
  return headers;
}

void S3Client::put_object(const std::string& key, std::span<const std::uint8_t> body,
                          const std::string& body_sha256) {
  call({"PUT", key, {}, object_headers(), body, 0, body_sha256}, "s3 PUT " + quoted(key));
}

std::optional<ObjectHead> S3Client::head_object(const std::string& key) {
  const auto response = call({"HEAD", key, {}, {}, {}}, "s3 HEAD " + quoted(key), true);
  if (response.status == 404) return std::nullopt;
  ObjectHead head;
  const auto length = response.headers.find("content-length");
  if (length == response.headers.end()) {
    throw Error(ErrorCode::kStorage, "s3 HEAD " + quoted(key) + ": no Content-Length in the response");
  }
  head.size = object_size(length->second, "s3 HEAD " + quoted(key) + ": Content-Length");
  if (const auto etag = response.headers.find("etag"); etag != response.headers.end()) head.etag = etag->second;
  if (const auto date = response.headers.find("last-modified"); date != response.headers.end()) {
    head.modified = parse_http_date(date->second);
  }
  if (const auto token = response.headers.find(kUploadTokenHeader); token != response.headers.end()) {
    head.upload_token = token->second;
  }
  return head;
}

std::string S3Client::get_range(const std::string& key, std::uint64_t offset, std::uint64_t length,
                                const std::string& if_match) {
  const auto what = "s3 GET " + quoted(key);
  Parameters headers{{"range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
  if (!if_match.empty()) headers.emplace_back("if-match", if_match);
  std::string bytes;
  config_.retry.run(what, [&] {
    auto response = send({"GET", key, {}, headers, {}, length}, what);
    if (response.body.size() != length) {
      // A proxy or server that cut the body short without curl noticing.
      throw TransientError(ErrorCode::kStorage, what + ": got " + std::to_string(response.body.size()) +
                                                    " bytes of a " + std::to_string(length) + "-byte range");
    }
    bytes = std::move(response.body);
  });
  return bytes;
}

ListResult S3Client::list_objects(const std::string& prefix, const std::string& token) {
  Parameters query{{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(config_.list_page_size)}};
  if (!token.empty()) query.emplace_back("continuation-token", token);
  const auto response = call({"GET", "", query, {}, {}}, "s3 LIST " + quoted(prefix));
  ListResult result;
  for (const auto contents : xml_elements(response.body, "Contents")) {
    ObjectInfo info;
    info.key = xml_text(contents, "Key").value_or("");
    info.size = object_size(xml_text(contents, "Size").value_or(""), "s3 LIST " + quoted(prefix) + ": the Size of " + quoted(info.key));
    info.modified = parse_iso8601(xml_text(contents, "LastModified").value_or(""));
    result.objects.push_back(std::move(info));
  }
  if (xml_text(response.body, "IsTruncated").value_or("false") == "true") {
    result.next_token = xml_text(response.body, "NextContinuationToken").value_or("");
    if (result.next_token.empty()) {
      throw Error(ErrorCode::kStorage, "s3 LIST " + quoted(prefix) + ": truncated page without a continuation token");
    }
  }
  return result;
}

void S3Client::delete_objects(const std::vector<std::string>& keys) {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>";
  for (const auto& key : keys) body += "<Object><Key>" + xml_escape(key) + "</Key></Object>";
  body += "</Delete>";
  const auto bytes = as_bytes(body);
  const auto what = "s3 DELETE " + std::to_string(keys.size()) + " objects from " + quoted(keys.front());
  const auto response = call({"POST", "", {{"delete", ""}}, {{"content-md5", to_base64(md5(bytes))}}, bytes}, what);
  std::string failures;
  for (const auto error : xml_elements(response.body, "Error")) {
    const auto key = xml_text(error, "Key").value_or("");
    if (xml_text(error, "Code").value_or("") == "NoSuchKey") continue;
    failures += (failures.empty() ? "" : ", ") + quoted(key) + " " + xml_text(error, "Code").value_or("");
  }
  if (!failures.empty()) throw Error(ErrorCode::kStorage, what + " failed for " + failures);
}

void S3Client::copy_object(const std::string& from, const std::string& to) {
  const auto what = "s3 COPY " + quoted(from) + " to " + quoted(to);
  const auto source = "/" + uri_encode(config_.bucket, false) + "/" + uri_encode(from, true);
  auto headers = object_headers();
  headers.emplace_back("x-amz-copy-source", source);
  const auto response = call({"PUT", to, {}, headers, {}}, what);
  // S3 may answer 200 and report the failure in the body.
  if (xml_root(response.body) == "Error") fail(500, response.body, what);
}

MultipartUpload S3Client::create_multipart_upload(const std::string& key) {
  const auto what = "s3 CreateMultipartUpload " + quoted(key);
  MultipartUpload upload{"", random_token()};
  auto headers = object_headers();
  headers.emplace_back(kUploadTokenHeader, upload.token);
  const auto response = call({"POST", key, {{"uploads", ""}}, headers, {}}, what);
  auto id = xml_text(response.body, "UploadId");
  if (!id || id->empty()) throw Error(ErrorCode::kStorage, what + ": no UploadId in the response");
  upload.id = *id;
  return upload;
}

std::string S3Client::upload_part(const std::string& key, const std::string& upload_id, int part_number,
                                  std::span<const std::uint8_t> body, const std::string& body_sha256) {
  const auto what = "s3 UploadPart " + std::to_string(part_number) + " of " + quoted(key);
  const auto response = call(
      {"PUT", key, {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}}, {}, body, 0, body_sha256},
      what);
  const auto etag = response.headers.find("etag");
  if (etag == response.headers.end()) throw Error(ErrorCode::kStorage, what + ": no ETag in the response");
  return etag->second;
}

void S3Client::complete_multipart_upload(const std::string& key, const MultipartUpload& upload,
                                         const std::vector<std::string>& etags) {
  std::string body = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + xml_escape(etags[i]) +
            "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  const auto what = "s3 CompleteMultipartUpload " + quoted(key);
  // An attempt whose answer was lost may have completed the upload; the next one then fails
  // (NoSuchUpload on S3 and MinIO, an internal error on some servers) although the object is
  // there. So after the first attempt, the object is checked for this upload's token.
  bool attempted = false;
  const auto completed_before = [&] {
    if (!attempted) return false;
    const auto head = head_object(key);
    return head && head->upload_token == upload.token;
  };
  try {
    config_.retry.run(what, [&] {
      if (completed_before()) return;
      attempted = true;
      const auto response = send({"POST", key, {{"uploadId", upload.id}}, {}, as_bytes(body)}, what);
      if (xml_root(response.body) == "Error") fail(500, response.body, what);
    });
  } catch (const Error&) {
    bool completed = false;
    try {
      completed = completed_before();
    } catch (const Error&) {
      // The check failed too: the completion's own error says more.
    }
    if (!completed) throw;
  }
}

void S3Client::abort_multipart_upload(const std::string& key, const std::string& upload_id) {
  call({"DELETE", key, {{"uploadId", upload_id}}, {}, {}}, "s3 AbortMultipartUpload " + quoted(key), true);
}

}  // namespace shardsafe::storage::s3

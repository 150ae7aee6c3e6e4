#include "storage/open.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <regex>

#include "common/error.h"
#include "common/numbers.h"
#include "common/redact.h"
#include "storage/fs/fs_storage.h"
#include "storage/s3/credentials.h"
#include "storage/s3/s3_storage.h"

namespace shardsafe::storage {
namespace {

constexpr std::array kS3Parameters = {
    "endpoint",         "region",           "path_style",          "profile",
    "access_key",       "secret_key",       "session_token",       "upload_part_size",
    "download_chunk_size", "upload_concurrency", "download_concurrency", "list_page_size",
    "max_attempts",     "retry_base_ms",    "connect_timeout_ms",  "stall_timeout_s",
    "sign_payload",     "ca_file",          "storage_class",       "sse",
    "sse_kms_key_id",
};

[[noreturn]] void bad_url(const std::string& url, const std::string& why) {
  throw Error(ErrorCode::kBadUri, "invalid storage URL \"" + redact_uri(url) + "\": " + why);
}

std::string percent_decode(const std::string& url, std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      bad_url(url, "bad percent-encoding");
    }
    out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

struct ParsedUrl {
  std::string scheme;
  std::string authority;  // bucket for s3/oss, empty for file
  std::string path;       // without the leading '/'
  StorageSettings parameters;
};

ParsedUrl parse_url(const std::string& url) {
  ParsedUrl parsed;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) bad_url(url, "expected file://, s3:// or oss://");
  parsed.scheme = url.substr(0, scheme_end);
  const auto query_start = url.find('?', scheme_end + 3);
  const auto rest = url.substr(scheme_end + 3, query_start - scheme_end - 3);
  const auto slash = rest.find('/');
  parsed.authority = rest.substr(0, slash);
  parsed.path = slash == std::string::npos ? "" : percent_decode(url, rest.substr(slash + 1));
  if (query_start == std::string::npos) return parsed;
  std::string_view query = std::string_view(url).substr(query_start + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto equals = pair.find('=');
    if (equals == std::string_view::npos || equals == 0) bad_url(url, "query parameters must be name=value");
    parsed.parameters[std::string(pair.substr(0, equals))] = percent_decode(url, pair.substr(equals + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return parsed;
}

std::string trim_slashes(std::string text) {
  while (!text.empty() && text.back() == '/') text.pop_back();
  while (!text.empty() && text.front() == '/') text.erase(text.begin());
  return text;
}

bool valid_bucket(const std::string& bucket) {
  return bucket.size() >= 3 && bucket.size() <= 63 && std::all_of(bucket.begin(), bucket.end(), [](unsigned char c) {
           return std::islower(c) || std::isdigit(c) || c == '-' || c == '.';
         });
}

std::uint64_t number(const std::string& url, const StorageSettings& merged, const char* name, std::uint64_t fallback,
                     std::uint64_t minimum) {
  const auto it = merged.find(name);
  if (it == merged.end()) return fallback;
  const auto& text = it->second;
  const auto parsed = parse_uint64(text);
  if (!parsed) bad_url(url, std::string(name) + " must be a whole number");
  const std::uint64_t value = *parsed;
  if (value < minimum) bad_url(url, std::string(name) + " must be at least " + std::to_string(minimum));
  return value;
}

bool boolean(const std::string& url, const StorageSettings& merged, const char* name, bool fallback) {
  const auto it = merged.find(name);
  if (it == merged.end()) return fallback;
  if (it->second == "true" || it->second == "1") return true;
  if (it->second == "false" || it->second == "0") return false;
  bad_url(url, std::string(name) + " must be true or false");
}

std::string value_or(const StorageSettings& merged, const char* name, const std::string& fallback) {
  const auto it = merged.find(name);
  return it == merged.end() || it->second.empty() ? fallback : it->second;
}

// "https://s3.oss-cn-hangzhou.aliyuncs.com" -> "cn-hangzhou"
std::string oss_region(const std::string& endpoint) {
  static const std::regex pattern(R"(^(?:https?://)?(?:[^/]*\.)?oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com)");
  std::smatch match;
  return std::regex_search(endpoint, match, pattern) ? match[1].str() : "";
}

// Header values go into requests as they are: anything but [A-Za-z0-9_:/.-] is refused, so
// a value cannot add a header line.
std::string header_value(const std::string& url, const StorageSettings& merged, const char* name) {
  auto value = value_or(merged, name, "");
  const auto allowed = [](unsigned char c) { return std::isalnum(c) || std::strchr("_:/.-", c) != nullptr; };
  if (!std::all_of(value.begin(), value.end(), allowed)) bad_url(url, std::string(name) + " has a character S3 does not use");
  return value;
}

// storage_class, sse and sse_kms_key_id. The server judges the storage class (S3-compatible
// products name their own); the encryption is one of S3's two.
void set_object_headers(const std::string& url, const StorageSettings& merged, s3::S3Config& config) {
  config.storage_class = header_value(url, merged, "storage_class");
  config.sse = header_value(url, merged, "sse");
  config.sse_kms_key_id = header_value(url, merged, "sse_kms_key_id");
  if (!config.sse.empty() && config.sse != "AES256" && config.sse != "aws:kms") {
    bad_url(url, "sse must be AES256 or aws:kms");
  }
  if (!config.sse_kms_key_id.empty() && config.sse != "aws:kms") bad_url(url, "sse_kms_key_id needs sse=aws:kms");
}

}  // namespace

s3::S3Config s3_config_from_url(const std::string& url, const StorageSettings& settings) {
  auto parsed = parse_url(url);
  if (parsed.scheme != "s3" && parsed.scheme != "oss") bad_url(url, "expected s3:// or oss://");
  if (!valid_bucket(parsed.authority)) bad_url(url, "\"" + parsed.authority + "\" is not a valid bucket name");
  for (const auto& [name, value] : parsed.parameters) {
    if (std::find(kS3Parameters.begin(), kS3Parameters.end(), name) == kS3Parameters.end()) {
      bad_url(url, "unknown parameter \"" + name + "\"");
    }
  }
  StorageSettings merged = settings;
  for (const auto& [name, value] : parsed.parameters) merged[name] = value;

  s3::S3Config config;
  config.scheme = parsed.scheme;
  config.bucket = parsed.authority;
  config.prefix = trim_slashes(parsed.path);
  config.endpoint = trim_slashes(value_or(merged, "endpoint", ""));
  if (parsed.scheme == "oss") {
    config.region = value_or(merged, "region", oss_region(config.endpoint));
    if (config.endpoint.empty() && !config.region.empty()) {
      config.endpoint = "https://s3.oss-" + config.region + ".aliyuncs.com";
    }
    if (config.endpoint.empty()) bad_url(url, "oss:// needs an endpoint (or a region)");
    if (config.region.empty()) bad_url(url, "cannot tell the OSS region from the endpoint; set region");
    if (boolean(url, merged, "path_style", false)) bad_url(url, "OSS accepts only virtual-hosted style");
  } else {
    config.region = value_or(merged, "region", "us-east-1");
    if (config.endpoint.empty()) config.endpoint = "https://s3." + config.region + ".amazonaws.com";
    // A bucket name with dots does not match the endpoint's wildcard certificate
    // (*.s3.amazonaws.com covers one label), so over HTTPS such a bucket defaults to path
    // style, as the AWS SDKs do.
    const bool dotted_over_tls = config.bucket.find('.') != std::string::npos && config.endpoint.starts_with("https://");
    config.path_style = boolean(url, merged, "path_style", dotted_over_tls);
  }
  if (!config.endpoint.starts_with("http://") && !config.endpoint.starts_with("https://")) {
    bad_url(url, "endpoint must start with http:// or https://");
  }
  config.upload_part_size = number(url, merged, "upload_part_size", config.upload_part_size, 5u << 20);
  config.download_chunk_size = number(url, merged, "download_chunk_size", config.download_chunk_size, 1);
  config.upload_concurrency = static_cast<int>(number(url, merged, "upload_concurrency", 4, 1));
  config.download_concurrency = static_cast<int>(number(url, merged, "download_concurrency", 4, 1));
  config.list_page_size = static_cast<int>(std::min<std::uint64_t>(1000, number(url, merged, "list_page_size", 1000, 1)));
  config.retry.max_attempts = static_cast<int>(number(url, merged, "max_attempts", 6, 1));
  config.retry.base_delay = std::chrono::milliseconds(number(url, merged, "retry_base_ms", 200, 0));
  config.timeouts.connect = std::chrono::milliseconds(number(url, merged, "connect_timeout_ms", 10'000, 1));
  config.timeouts.stall = std::chrono::seconds(number(url, merged, "stall_timeout_s", 60, 1));
  // OSS's S3-compatible API wants the SHA-256 of every PUT and POST body (its error
  // 0002-00000427); elsewhere TLS protects the body, and the AWS SDKs leave it unsigned.
  const bool oss = parsed.scheme == "oss";
  config.sign_payload = boolean(url, merged, "sign_payload", oss || !config.endpoint.starts_with("https://"));
  if (oss && !config.sign_payload) bad_url(url, "OSS refuses uploads without a signed payload (sign_payload=false)");
  config.ca_file = value_or(merged, "ca_file", "");
  if (!config.ca_file.empty() && !std::filesystem::is_regular_file(config.ca_file)) {
    bad_url(url, "ca_file \"" + config.ca_file + "\" is not a file");
  }
  set_object_headers(url, merged, config);
  config.credentials = s3::resolve_credentials(merged);
  return config;
}

std::unique_ptr<Storage> open_storage(const std::string& url, const StorageSettings& settings) {
  if (url.starts_with("file://")) {
    const auto parsed = parse_url(url);
    if (!parsed.authority.empty() && parsed.authority != "localhost") {
      bad_url(url, "file URLs name an absolute path: file:///path");
    }
    if (!parsed.parameters.empty()) bad_url(url, "file URLs take no parameters");
    if (trim_slashes(parsed.path).empty()) bad_url(url, "no directory");
    return std::make_unique<FsStorage>("/" + parsed.path);
  }
  if (url.starts_with("s3://") || url.starts_with("oss://")) {
    return std::make_unique<s3::S3Storage>(s3_config_from_url(url, settings));
  }
  bad_url(url, "expected file://, s3:// or oss://");
}

}  // namespace shardsafe::storage

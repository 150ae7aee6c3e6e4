#include "storage/s3/credentials.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "storage/s3/retry.h"

namespace shardsafe::storage::s3 {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string setting(const std::map<std::string, std::string>& settings, const std::string& name) {
  const auto it = settings.find(name);
  return it == settings.end() ? "" : it->second;
}

bool complete(const Credentials& credentials) {
  return !credentials.access_key.empty() && !credentials.secret_key.empty();
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string shared_file_path() {
  if (const auto path = env("AWS_SHARED_CREDENTIALS_FILE"); !path.empty()) return path;
  return env("HOME").empty() ? "" : env("HOME") + "/.aws/credentials";
}

std::string environment_profile() { return env("AWS_PROFILE").empty() ? "default" : env("AWS_PROFILE"); }

// The Authorization header for a container credentials endpoint (EKS Pod Identity names a file).
std::string container_authorization() {
  if (const auto file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    std::ifstream in(file);
    std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && token.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \"" + file + "\"");
    }
    return trim(token);
  }
  return env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
}

// Role credentials are renewed this long before they expire, as the AWS SDKs do.
constexpr auto kRenewBeforeExpiry = std::chrono::minutes(5);

}  // namespace

Credentials read_shared_credentials(const std::string& path, const std::string& profile) {
  std::ifstream file(path);
  Credentials credentials;
  bool in_profile = false;
  for (std::string line; std::getline(file, line);) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      in_profile = trim(line.substr(1, line.size() - 2)) == profile;
      continue;
    }
    const auto equals = line.find('=');
    if (!in_profile || equals == std::string::npos) continue;
    const auto name = trim(line.substr(0, equals));
    const auto value = trim(line.substr(equals + 1));
    if (name == "aws_access_key_id") credentials.access_key = value;
    if (name == "aws_secret_access_key") credentials.secret_key = value;
    if (name == "aws_session_token") credentials.session_token = value;
  }
  return credentials;
}

std::optional<Credentials> find_credentials(const Settings& settings) {
  Credentials from_settings{setting(settings, "access_key"), setting(settings, "secret_key"),
                            setting(settings, "session_token")};
  if (complete(from_settings)) return from_settings;

  if (const auto named = setting(settings, "profile"); !named.empty()) {
    auto from_profile = read_shared_credentials(shared_file_path(), named);
    if (complete(from_profile)) return from_profile;
    throw Error(ErrorCode::kInvalidArgument, "no S3 credentials for profile \"" + named + "\" in \"" +
                                                 shared_file_path() + "\" (the profile setting)");
  }

  Credentials from_env{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
  if (complete(from_env)) return from_env;

  auto from_file = read_shared_credentials(shared_file_path(), environment_profile());
  if (complete(from_file)) return from_file;
  return std::nullopt;
}

std::shared_ptr<RoleCredentials> RoleCredentials::discover(std::string* why_not) {
  const auto relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const auto full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative.empty() || !full.empty()) {
    // Named by the environment: its errors are the user's to see.
    Endpoint endpoint{relative.empty() ? full : "http://169.254.170.2" + relative, container_authorization(), false};
    return std::shared_ptr<RoleCredentials>(new RoleCredentials(std::move(endpoint)));
  }
  if (lower(env("AWS_EC2_METADATA_DISABLED")) == "true") {
    *why_not = "the instance metadata service is disabled by AWS_EC2_METADATA_DISABLED";
    return nullptr;
  }
  auto root = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (root.empty()) root = "http://169.254.169.254";
  while (root.ends_with('/')) root.pop_back();
  try {
    return std::shared_ptr<RoleCredentials>(new RoleCredentials(Endpoint{root, "", true}));
  } catch (const Error& error) {
    // Outside EC2 nothing answers there; on an instance without a role it answers 404.
    *why_not = error.what();
    return nullptr;
  }
}

RoleCredentials::RoleCredentials(Endpoint endpoint)
    : endpoint_(std::move(endpoint)), http_(HttpTimeouts{std::chrono::milliseconds(1000), std::chrono::seconds(2)}, "") {
  fetch();
}

Credentials RoleCredentials::current() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::system_clock::now();
  if (now + kRenewBeforeExpiry < expires_) return credentials_;
  try {
    fetch();
  } catch (const Error& error) {
    if (now >= expires_) {
      throw TransientError(ErrorCode::kConnection,
                           std::string("the role's S3 credentials expired and could not be renewed: ") + error.what());
    }
    spdlog::warn("could not renew the role's S3 credentials, using the current ones until they expire: {}",
                 error.what());
  }
  return credentials_;
}

void RoleCredentials::fetch() {
  std::string document;
  if (endpoint_.imds) {
    const Parameters with_token{{"X-aws-ec2-metadata-token", imds_token()}};
    const auto roles = endpoint_.url + "/latest/meta-data/iam/security-credentials/";
    const auto listing = get(roles, with_token);
    const auto role = trim(listing.substr(0, listing.find('\n')));
    if (role.empty()) throw Error(ErrorCode::kInvalidArgument, "instance metadata at " + endpoint_.url + ": no IAM role");
    document = get(roles + role, with_token);
  } else {
    Parameters headers;
    if (!endpoint_.authorization.empty()) headers.emplace_back("Authorization", endpoint_.authorization);
    document = get(endpoint_.url, headers);
  }
  const auto parsed = nlohmann::json::parse(document, nullptr, false);
  const auto field = [&](const char* name) {
    if (!parsed.is_object() || !parsed.contains(name) || !parsed[name].is_string()) {
      throw Error(ErrorCode::kInvalidArgument, "role credentials from " + endpoint_.url + " have no " + name);
    }
    return parsed[name].get<std::string>();
  };
  // All fields read before any is kept: a broken document leaves the current credentials whole.
  Credentials fresh{field("AccessKeyId"), field("SecretAccessKey"), field("Token")};
  const auto expires = parse_iso8601(field("Expiration"));
  credentials_ = std::move(fresh);
  expires_ = expires;
}

// IMDSv2: a session token first, sent with every metadata request.
std::string RoleCredentials::imds_token() {
  const auto url = endpoint_.url + "/latest/api/token";
  const auto response = http_.perform({"PUT", url, {{"X-aws-ec2-metadata-token-ttl-seconds", "300"}}, {}}, url);
  if (response.status != 200) throw Error(ErrorCode::kInvalidArgument, url + ": HTTP " + std::to_string(response.status));
  return response.body;
}

std::string RoleCredentials::get(const std::string& url, const Parameters& headers) {
  const auto response = http_.perform({"GET", url, headers, {}}, url);
  if (response.status / 100 == 5) throw TransientError(ErrorCode::kConnection, url + ": HTTP " + std::to_string(response.status));
  if (response.status != 200) throw Error(ErrorCode::kInvalidArgument, url + ": HTTP " + std::to_string(response.status));
  return response.body;
}

CredentialSource resolve_credentials(const Settings& settings) {
  if (auto found = find_credentials(settings)) return CredentialSource(std::move(*found));
  std::string why_not;
  if (auto role = RoleCredentials::discover(&why_not)) return CredentialSource(std::move(role));
  throw Error(ErrorCode::kInvalidArgument,
              "no S3 credentials: set access_key and secret_key in the storage settings, or AWS_ACCESS_KEY_ID and "
              "AWS_SECRET_ACCESS_KEY, or profile \"" + environment_profile() + "\" in \"" + shared_file_path() +
                  "\", or run with an instance or container role (" + why_not + ")");
}

}  // namespace shardsafe::storage::s3

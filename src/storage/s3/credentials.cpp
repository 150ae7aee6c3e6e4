#include "storage/s3/credentials.h"

#include <cstdlib>
#include <fstream>

#include "common/error.h"

namespace shardsafe::storage::s3 {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::string setting(const std::map<std::string, std::string>& settings, const std::string& name) {
  const auto it = settings.find(name);
  return it == settings.end() ? "" : it->second;
}

bool complete(const Credentials& credentials) {
  return !credentials.access_key.empty() && !credentials.secret_key.empty();
}

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

Credentials resolve_credentials(const std::map<std::string, std::string>& settings) {
  Credentials from_settings{setting(settings, "access_key"), setting(settings, "secret_key"),
                            setting(settings, "session_token")};
  if (complete(from_settings)) return from_settings;

  std::string path = env("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty() && !env("HOME").empty()) path = env("HOME") + "/.aws/credentials";
  if (const auto named = setting(settings, "profile"); !named.empty()) {
    auto from_profile = read_shared_credentials(path, named);
    if (complete(from_profile)) return from_profile;
    throw Error(ErrorCode::kInvalidArgument,
                "no S3 credentials for profile \"" + named + "\" in \"" + path + "\" (the profile setting)");
  }

  Credentials from_env{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
  if (complete(from_env)) return from_env;

  const auto profile = env("AWS_PROFILE").empty() ? std::string("default") : env("AWS_PROFILE");
  auto from_file = read_shared_credentials(path, profile);
  if (complete(from_file)) return from_file;
  throw Error(ErrorCode::kInvalidArgument,
              "no S3 credentials: set access_key and secret_key in the storage settings, or AWS_ACCESS_KEY_ID and "
              "AWS_SECRET_ACCESS_KEY, or profile \"" + profile + "\" in \"" + path + "\"");
}

}  // namespace shardsafe::storage::s3

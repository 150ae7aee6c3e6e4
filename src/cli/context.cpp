#include "cli/context.h"

#include <yaml-cpp/yaml.h>

#include <iostream>

#include "common/error.h"
#include "storage/open.h"

namespace shardsafe::cli {
namespace {

// The `storage:` map of the config file: every scalar as a string setting.
std::map<std::string, std::string> storage_settings(const std::string& config_path) {
  std::map<std::string, std::string> settings;
  if (config_path.empty()) return settings;
  try {
    const YAML::Node root = YAML::LoadFile(config_path);
    for (const auto& item : root["storage"]) settings[item.first.as<std::string>()] = item.second.as<std::string>();
  } catch (const YAML::Exception& error) {
    throw Error(ErrorCode::kInvalidArgument, "cannot read config file \"" + config_path + "\": " + error.what());
  }
  return settings;
}

}  // namespace

std::unique_ptr<storage::Storage> Context::open_storage() const {
  auto settings = storage_settings(config_path);
  std::string url = storage_url;
  if (url.empty() && settings.count("url")) url = settings["url"];
  settings.erase("url");
  if (url.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                "no storage given: pass --storage file:///path or s3://bucket/prefix?... (or storage.url in --config)");
  }
  return storage::open_storage(url, settings);
}

std::optional<storage::EncryptionKey> Context::encryption_key() const {
  if (!key_file.empty()) return storage::load_key_from_file(key_file);
  if (!key_env.empty()) return storage::load_key_from_env(key_env);
  return std::nullopt;
}

void Context::print(const nlohmann::json& result, const std::function<void()>& human) const {
  if (json) {
    std::cout << result.dump(2) << "\n";
  } else {
    human();
  }
}

void add_storage_options(CLI::App& verb, Context& context) {
  verb.add_option("--storage", context.storage_url,
                  "where backups live: file:///path, s3://bucket/prefix?endpoint=...&region=..., oss://bucket/prefix?endpoint=...");
  verb.add_option("--config", context.config_path, "YAML config file; its `storage:` map holds the URL and driver settings");
}

void add_key_options(CLI::App& verb, Context& context) {
  auto* file = verb.add_option("--encryption-key-file", context.key_file,
                               "AES-256 key file (32 raw bytes or 64 hex characters): encrypts backups, decrypts restores");
  auto* env = verb.add_option("--encryption-key-env", context.key_env,
                              "name of an environment variable holding the key as 64 hex characters");
  file->excludes(env);
}

}  // namespace shardsafe::cli

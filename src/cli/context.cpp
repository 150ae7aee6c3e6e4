#include "cli/context.h"

#include <yaml-cpp/yaml.h>

#include <iostream>

#include "common/error.h"
#include "server/config.h"
#include "storage/open.h"

namespace shardsafe::cli {
namespace {

// "shard0=host:port" -> agents["shard0"] += "host:port".
void add_agent(coordinator::AgentSettings& settings, const std::string& entry) {
  const auto equals = entry.find('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
    throw Error(ErrorCode::kInvalidArgument, "--agents takes <shard or replica set>=<host:port>, got \"" + entry + "\"");
  }
  settings.agents[entry.substr(0, equals)].push_back(entry.substr(equals + 1));
}

}  // namespace

coordinator::StorageLocation Context::storage_location() const {
  coordinator::StorageLocation location;
  if (!config_path.empty()) location = server::storage_location_from(server::load_yaml_file(config_path)["storage"]);
  if (!storage_url.empty()) location.url = storage_url;
  if (location.url.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                "no storage given: pass --storage file:///path or s3://bucket/prefix?... (or storage.url in --config)");
  }
  return location;
}

std::unique_ptr<storage::Storage> Context::open_storage() const {
  const auto location = storage_location();
  return storage::open_storage(location.url, location.settings);
}

coordinator::AgentSettings Context::agent_settings() const {
  coordinator::AgentSettings settings;
  std::string token_file = agent_token_file;
  for (const auto& entry : agents) add_agent(settings, entry);
  if (!config_path.empty()) {
    const YAML::Node root = server::load_yaml_file(config_path);
    if (settings.agents.empty()) server::add_agents_from(root["agents"], settings);
    if (token_file.empty() && root["agent_token_file"]) token_file = root["agent_token_file"].as<std::string>();
  }
  if (!settings.enabled()) return settings;
  if (token_file.empty()) throw Error(ErrorCode::kInvalidArgument, "agents need a token: pass --agent-token-file");
  settings.token = server::read_token_file(token_file, "agent token");
  settings.ca_file = agent_ca_file;
  return settings;
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

void add_agent_options(CLI::App& verb, Context& context) {
  verb.add_option("--agents", context.agents,
                  "run each replica set's job in the agent on its host: shard0=host:port,rs1=host:port (default: in this process)")
      ->delimiter(',');
  verb.add_option("--agent-token-file", context.agent_token_file, "file holding the agents' bearer token");
  verb.add_option("--agent-ca-file", context.agent_ca_file, "PEM bundle that signed the agents' TLS certificates");
}

void add_key_options(CLI::App& verb, Context& context) {
  auto* file = verb.add_option("--encryption-key-file", context.key_file,
                               "AES-256 key file (32 raw bytes or 64 hex characters): encrypts backups, decrypts restores");
  auto* env = verb.add_option("--encryption-key-env", context.key_env,
                              "name of an environment variable holding the key as 64 hex characters");
  file->excludes(env);
}

}  // namespace shardsafe::cli

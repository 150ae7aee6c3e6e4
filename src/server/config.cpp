#include "server/config.h"

#include <fstream>

#include "catalog/catalog.h"
#include "common/error.h"

namespace shardsafe::server {
namespace {

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument, "config file \"" + path + "\": " + what);
}

template <typename T>
T scalar(const YAML::Node& node, const std::string& key, const std::string& path) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    bad(path, "\"" + key + "\" has the wrong type");
  }
}

void parse_server(const YAML::Node& server, ServerConfig& config, const std::string& path) {
  if (!server || !server["token_file"]) bad(path, "server.token_file is required");
  if (server["listen"]) std::tie(config.host, config.port) = parse_listen(scalar<std::string>(server["listen"], "server.listen", path), "server.listen");
  config.token = read_token_file(scalar<std::string>(server["token_file"], "server.token_file", path), "API token");
  if (server["tls_cert"]) config.tls_cert = scalar<std::string>(server["tls_cert"], "server.tls_cert", path);
  if (server["tls_key"]) config.tls_key = scalar<std::string>(server["tls_key"], "server.tls_key", path);
  if (server["data_dir"]) config.data_dir = scalar<std::string>(server["data_dir"], "server.data_dir", path);
  if (server["encryption_key_file"]) {
    config.key = storage::load_key_from_file(scalar<std::string>(server["encryption_key_file"], "server.encryption_key_file", path));
  }
}

std::optional<catalog::RetentionPolicy> parse_retention(const YAML::Node& node, const std::string& key, const std::string& path) {
  if (!node) return std::nullopt;
  catalog::RetentionPolicy policy;
  if (node["keep_last"]) policy.keep_last = scalar<std::size_t>(node["keep_last"], key + ".keep_last", path);
  if (node["keep_days"]) policy.keep_for = std::chrono::hours(24 * scalar<int>(node["keep_days"], key + ".keep_days", path));
  if (!policy.keep_last && !policy.keep_for) bad(path, key + " needs keep_last or keep_days");
  if (policy.keep_last == std::size_t{0}) bad(path, key + ".keep_last must be at least 1");
  return policy;
}

std::optional<CronSchedule> parse_schedule(const YAML::Node& node, const std::string& key, const std::string& path) {
  if (!node) return std::nullopt;
  return CronSchedule(scalar<std::string>(node, key, path));
}

ClusterConfig parse_cluster(const std::string& name, const YAML::Node& node, const coordinator::StorageLocation& storage, const std::string& agent_token, const std::string& path) {
  const std::string key = "clusters." + name;
  catalog::Catalog::validate_backup_id(name);  // a cluster name becomes a storage prefix
  ClusterConfig cluster;
  cluster.name = name;
  if (!node["uri"]) bad(path, key + ".uri is required");
  cluster.uri = scalar<std::string>(node["uri"], key + ".uri", path);
  add_agents_from(node["agents"], cluster.agents);
  if (cluster.agents.enabled()) {
    if (agent_token.empty()) bad(path, key + ".agents need agent_token_file");
    cluster.agents.token = agent_token;
  }
  cluster.storage = {child_url(storage.url, name), storage.settings};
  if (const YAML::Node schedule = node["schedule"]) {
    cluster.full_schedule = parse_schedule(schedule["full"], key + ".schedule.full", path);
    cluster.incremental_schedule = parse_schedule(schedule["incremental"], key + ".schedule.incremental", path);
  }
  cluster.retention = parse_retention(node["retention"], key + ".retention", path);
  return cluster;
}

}  // namespace

YAML::Node load_yaml_file(const std::string& path) {
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::Exception& error) {
    throw Error(ErrorCode::kInvalidArgument, "cannot read config file \"" + path + "\": " + error.what());
  }
}

std::string read_token_file(const std::string& path, const std::string& what) {
  std::ifstream file(path);
  if (!file) throw Error(ErrorCode::kInvalidArgument, "cannot read the " + what + " file \"" + path + "\"");
  std::string token;
  std::getline(file, token);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) throw Error(ErrorCode::kInvalidArgument, "the " + what + " file \"" + path + "\" is empty");
  return token;
}

std::pair<std::string, int> parse_listen(const std::string& listen, const std::string& what) {
  const auto colon = listen.rfind(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no port");
    return {listen.substr(0, colon), std::stoi(listen.substr(colon + 1))};
  } catch (const std::exception&) {
    throw Error(ErrorCode::kInvalidArgument, what + " takes HOST:PORT, got \"" + listen + "\"");
  }
}

coordinator::StorageLocation storage_location_from(const YAML::Node& storage) {
  coordinator::StorageLocation location;
  for (const auto& item : storage) location.settings[item.first.as<std::string>()] = item.second.as<std::string>();
  if (location.settings.count("url")) location.url = location.settings["url"];
  location.settings.erase("url");
  return location;
}

void add_agents_from(const YAML::Node& agents, coordinator::AgentSettings& settings) {
  for (const auto& item : agents) settings.agents[item.first.as<std::string>()].push_back(item.second.as<std::string>());
}

std::string child_url(const std::string& url, const std::string& name) {
  const auto query = url.find('?');
  std::string path = url.substr(0, query);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path + "/" + name + (query == std::string::npos ? "" : url.substr(query));
}

ServerConfig load_server_config(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  ServerConfig config;
  parse_server(root["server"], config, path);
  const auto storage = storage_location_from(root["storage"]);
  if (storage.url.empty()) bad(path, "storage.url is required");
  const std::string agent_token =
      root["agent_token_file"] ? read_token_file(scalar<std::string>(root["agent_token_file"], "agent_token_file", path), "agent token") : "";
  if (!root["clusters"] || !root["clusters"].IsMap() || root["clusters"].size() == 0) bad(path, "clusters: names no cluster");
  for (const auto& item : root["clusters"]) {
    const auto name = item.first.as<std::string>();
    config.clusters[name] = parse_cluster(name, item.second, storage, agent_token, path);
  }
  return config;
}

}  // namespace shardsafe::server

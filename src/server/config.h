// `shardsafe server --config FILE`: the YAML file the control plane runs from.
//
//   server:
//     listen: 127.0.0.1:8745
//     token_file: /etc/shardsafe/token      # required: the API's bearer token
//     tls_cert: cert.pem                    # optional, with tls_key
//     tls_key: key.pem
//     data_dir: /var/lib/shardsafe          # the job history (jobs.db); default shown
//     encryption_key_file: /etc/shardsafe/key   # optional: encrypt backups, decrypt restores
//   storage:
//     url: s3://bucket/prefix?...           # plus the driver settings, as for the CLI
//   agent_token_file: /etc/shardsafe/agent-token   # when a cluster names agents
//   clusters:
//     prod:
//       uri: mongodb://mongos1:27017
//       agents: {shard0: "host:port"}       # optional
//       schedule: {full: "0 2 * * *", incremental: "*/15 * * * *"}   # cron, UTC; each optional
//       retention: {keep_last: 7, keep_days: 30}                    # optional, after each backup
//
// Other keys are allowed and ignored. Each cluster's backups live under its own prefix of the
// storage: `<url>/<cluster>/`.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>

#include "catalog/retention.h"
#include "coordinator/jobs.h"
#include "server/cron.h"
#include "storage/pipeline.h"

namespace shardsafe::server {

struct ClusterConfig {
  std::string name;
  std::string uri;  // may hold a password: never logged (redact_uri)
  coordinator::AgentSettings agents;
  coordinator::StorageLocation storage;  // the cluster's own prefix
  std::optional<CronSchedule> full_schedule, incremental_schedule;
  std::optional<catalog::RetentionPolicy> retention;
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8745;
  std::string token;
  std::string tls_cert, tls_key;
  std::string data_dir = "/var/lib/shardsafe";
  std::optional<storage::EncryptionKey> key;
  std::map<std::string, ClusterConfig> clusters;
};

// Error(kInvalidArgument) naming the key for a missing or malformed required setting, an
// unreadable file or a bad cron expression.
ServerConfig load_server_config(const std::string& path);

// Shared with the CLI's --config:
YAML::Node load_yaml_file(const std::string& path);
// The first line of `path`, trailing whitespace removed; Error(kInvalidArgument) when the file
// is unreadable or empty. `what` names the token in messages ("agent token").
std::string read_token_file(const std::string& path, const std::string& what);
// "host:port" -> {host, port}; Error(kInvalidArgument) quoting `what` ("--listen") otherwise.
std::pair<std::string, int> parse_listen(const std::string& listen, const std::string& what);
// A `storage:` map: `url` and every other scalar as a driver setting.
coordinator::StorageLocation storage_location_from(const YAML::Node& storage);
// An `agents:` map (shard or set -> host:port) into `settings`.
void add_agents_from(const YAML::Node& agents, coordinator::AgentSettings& settings);

// `url` with `/<name>` appended to its path (before any query): "s3://b/p?x=1" -> "s3://b/p/prod?x=1".
std::string child_url(const std::string& url, const std::string& name);

}  // namespace shardsafe::server

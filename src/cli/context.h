// What every verb shares: global flags, the storage to use, the encryption key, and how results
// and errors are printed (a table for people, JSON with --json).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "coordinator/jobs.h"
#include "storage/pipeline.h"
#include "storage/storage.h"

namespace shardsafe::cli {

struct Context {
  bool json = false;
  bool quiet = false;
  std::string log_level = "info";
  std::string config_path;        // YAML: a `storage:` map (url plus driver settings)
  std::string storage_url;
  std::string key_file;
  std::string key_env;
  std::vector<std::string> agents;  // --agents shard0=host:port,rs1=host:port
  std::string agent_token_file;
  std::string agent_ca_file;

  // The storage named by --storage (or the config file's storage.url), with the config
  // file's storage settings. Throws kInvalidArgument when none is given.
  std::unique_ptr<storage::Storage> open_storage() const;
  // The storage's URL and settings, as agents need them to open it themselves.
  coordinator::StorageLocation storage_location() const;
  // Agent mode: --agents (or the config file's `agents:` map) with the token from
  // --agent-token-file (or `agent_token_file:`). Empty (local mode) when no agent is named.
  coordinator::AgentSettings agent_settings() const;
  // The key from --encryption-key-file / --encryption-key-env, if either is given.
  std::optional<storage::EncryptionKey> encryption_key() const;
  // Prints `result` as JSON with --json, else calls `human` to print it for people.
  void print(const nlohmann::json& result, const std::function<void()>& human) const;
  bool show_progress() const { return !quiet; }
};

// Adds --storage, --config and the key flags to a verb that reads or writes backups.
void add_storage_options(CLI::App& verb, Context& context);
void add_key_options(CLI::App& verb, Context& context);
// Adds --agents, --agent-token-file and --agent-ca-file.
void add_agent_options(CLI::App& verb, Context& context);

// Verb registration; each lives in its own file.
void add_backup_verb(CLI::App& app, Context& context);
void add_restore_verb(CLI::App& app, Context& context);
void add_catalog_verbs(CLI::App& app, Context& context);  // list, describe, verify, delete
void add_transfer_verbs(CLI::App& app, Context& context);  // export, import
void add_demo_verb(CLI::App& app, Context& context);
void add_agent_verb(CLI::App& app, Context& context);
void add_status_verb(CLI::App& app, Context& context);
void add_pitr_verb(CLI::App& app, Context& context);  // pitr start|stop|status
void add_server_verb(CLI::App& app, Context& context);

}  // namespace shardsafe::cli

// shardsafe demo: the seed's scenario on a throwaway sandbox cluster.
//   start a sharded cluster (2 shards x 3 members, a config server, a mongos) and one agent
//   beside each replica set's primary; load sharded and unsharded collections; back the
//   cluster up through the agents (zstd + AES-256-GCM) to a folder; break the data; show that a
//   restore with the wrong key is refused and changes nothing; restore the whole cluster with
//   --drop; prove that every shard and the routed view are back byte for byte.
#include <fmt/format.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "cli/context.h"
#include "cli/progress_view.h"
#include "common/error.h"
#include "coordinator/backup.h"
#include "coordinator/restore.h"
#include "dump/fingerprint.h"
#include "mongo/topology.h"
#include "storage/open.h"

namespace shardsafe::cli {
namespace {

namespace fs = std::filesystem;

struct DemoFlags {
  std::string dir;
  int port = 0;
  int documents = 20000;
  bool keep = false;
};

fs::path sibling_binary(const char* name) { return fs::read_symlink("/proc/self/exe").parent_path() / name; }

std::string run_and_capture(const std::string& command) {
  struct PipeCloser {
    void operator()(FILE* pipe) const { pclose(pipe); }
  };
  std::unique_ptr<FILE, PipeCloser> pipe(popen(command.c_str(), "r"));
  if (!pipe) throw Error(ErrorCode::kInternal, "cannot run \"" + command + "\"");
  std::string out;
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) out.append(buffer.data(), n);
  return out;
}

// The sandbox cluster for the demo; stopped when this goes out of scope.
class DemoCluster {
 public:
  DemoCluster(const fs::path& dir, int port) : dir_(dir) {
    const std::string output = run_and_capture(fmt::format("'{}' up --dir '{}' --shards 2 --members 3 --config-members 1 --port {}",
                                                           sibling_binary("shardsafe-sandbox").string(), dir.string(), port));
    try {
      const auto cluster = nlohmann::json::parse(output);
      mongos_uri_ = cluster.at("mongos_uri");
      set_uris_.push_back(cluster.at("config").at("uri"));
      for (const auto& shard : cluster.at("shards")) set_uris_.push_back(shard.at("uri"));
    } catch (const nlohmann::json::exception&) {
      throw Error(ErrorCode::kInternal, "the sandbox did not start (see the logs under " + dir.string() + "): " + output);
    }
  }
  ~DemoCluster() {
    if (std::system(fmt::format("'{}' down --dir '{}' >/dev/null", sibling_binary("shardsafe-sandbox").string(), dir_.string()).c_str()) != 0) {
      fmt::print(stderr, "demo: could not stop the sandbox under {}\n", dir_.string());
    }
  }
  const std::string& mongos_uri() const { return mongos_uri_; }
  const std::vector<std::string>& set_uris() const { return set_uris_; }  // the config server, then each shard

 private:
  fs::path dir_;
  std::string mongos_uri_;
  std::vector<std::string> set_uris_;
};

// `shardsafe agent` beside one member, as an operator would run it on that host; stopped with
// SIGTERM when this goes out of scope.
class DemoAgent {
 public:
  DemoAgent(const fs::path& dir, const std::string& member, const fs::path& token_file) : dir_(dir) {
    int out[2];
    if (pipe(out) != 0) throw Error(ErrorCode::kInternal, "pipe failed");
    const std::string binary = sibling_binary("shardsafe").string();
    const std::string mongod = "mongodb://" + member + "/?directConnection=true";
    const std::string data_dir = dir.string();
    const std::string log = (dir / "agent.log").string();
    fs::create_directories(dir);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (log_fd >= 0) dup2(log_fd, STDERR_FILENO);
      execl(binary.c_str(), binary.c_str(), "agent", "--json", "--listen", "127.0.0.1:0", "--data-dir", data_dir.c_str(),
            "--token-file", token_file.c_str(), "--mongod-uri", mongod.c_str(), nullptr);
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c = 0;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    try {
      address_ = nlohmann::json::parse(line).at("listening");
    } catch (const nlohmann::json::exception&) {
      stop();  // the destructor will not run for a constructor that throws
      throw Error(ErrorCode::kInternal, "the agent for " + member + " did not start (see " + log + ")");
    }
  }
  ~DemoAgent() { stop(); }
  const std::string& address() const { return address_; }
  fs::path status_files() const { return dir_ / "jobs"; }

 private:
  void stop() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }

  fs::path dir_;
  pid_t pid_ = -1;
  std::string address_;
};

void step(const std::string& text) { fmt::print("\n== {}\n", text); }

void insert_all(mongo::Client& client, const std::string& db, const std::string& collection, std::vector<mongo::Bson>& batch) {
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& doc : batch) raw.push_back(doc.bytes());
  client.insert_many(db, collection, raw, true, mongo::BsonBuilder().append("w", "majority").build());
  batch.clear();
}

void command(mongo::Client& client, const std::string& db, const std::string& json) { client.command(db, mongo::Bson::from_json(json)); }

// shop.orders sharded on _id across both shards, shop.customers unsharded on the database's
// primary shard, metrics.events a capped collection in another database.
void load_dataset(mongo::Client& mongos, int documents) {
  command(mongos, "admin", R"({"enableSharding": "shop"})");
  command(mongos, "admin", R"({"shardCollection": "shop.orders", "key": {"_id": 1}})");
  command(mongos, "admin", fmt::format(R"({{"split": "shop.orders", "middle": {{"_id": {}}}}})", documents / 2));
  const std::string primary = mongo::BsonView(mongos.command("config", mongo::Bson::from_json(R"({"find": "databases", "filter": {"_id": "shop"}})")))
                                  .string("cursor.firstBatch.0.primary")
                                  .value_or("shard0");
  const std::string other = primary == "shard0" ? "shard1" : "shard0";
  command(mongos, "admin", fmt::format(R"({{"moveChunk": "shop.orders", "find": {{"_id": {}}}, "to": "{}"}})", documents - 1, other));
  std::mt19937 random(42);
  const std::array kCities = {"Lisbon", "Osaka", "Lagos", "Lima", "Oslo", "Hanoi"};
  std::vector<mongo::Bson> batch;
  for (int i = 0; i < documents; ++i) {
    batch.push_back(mongo::BsonBuilder()
                        .append("_id", std::int64_t{i})
                        .append("customer", fmt::format("customer-{}", i % 997))
                        .append("city", kCities[random() % kCities.size()])
                        .append("total", static_cast<double>(random() % 100000) / 100.0)
                        .append("note", std::string(200 + random() % 300, 'x'))
                        .build());
    if (batch.size() == 1000) insert_all(mongos, "shop", "orders", batch);
  }
  if (!batch.empty()) insert_all(mongos, "shop", "orders", batch);
  for (int i = 0; i < 997; ++i) {
    batch.push_back(mongo::BsonBuilder().append("_id", fmt::format("customer-{}", i)).append("email", fmt::format("c{}@example.com", i)).append("vip", i % 10 == 0).build());
  }
  insert_all(mongos, "shop", "customers", batch);
  command(mongos, "shop", R"({"createIndexes": "customers", "indexes": [{"key": {"email": 1}, "name": "email_unique", "unique": true}]})");
  command(mongos, "shop", R"({"createIndexes": "orders", "indexes": [{"key": {"city": 1, "total": -1}, "name": "city_total"}]})");
  command(mongos, "metrics", R"({"create": "events", "capped": true, "size": 1048576})");
  for (int i = 0; i < 500; ++i) batch.push_back(mongo::BsonBuilder().append("_id", std::int64_t{i}).append("kind", "page_view").build());
  insert_all(mongos, "metrics", "events", batch);
}

void break_dataset(mongo::Client& mongos) {
  command(mongos, "shop", R"({"drop": "orders"})");
  command(mongos, "shop", R"({"update": "customers", "updates": [{"q": {}, "u": {"$set": {"email": "lost"}, "$unset": {"vip": 1}}, "multi": true}]})");
  command(mongos, "metrics", R"({"drop": "events"})");
}

using Fingerprints = std::map<std::string, dump::CollectionFingerprint>;

Fingerprints fingerprint_cluster(const DemoCluster& cluster) { return dump::fingerprint_cluster(mongo::Uri(cluster.mongos_uri())); }

std::size_t differing_namespaces(const Fingerprints& a, const Fingerprints& b) {
  std::size_t differing = 0;
  for (const auto& [ns, print] : a) differing += (!b.count(ns) || !(b.at(ns) == print)) ? 1 : 0;
  for (const auto& [ns, print] : b) differing += a.count(ns) ? 0 : 1;
  return differing;
}

void write_key_file(const fs::path& path, std::uint32_t seed) {
  std::mt19937 random(seed);
  std::ofstream out(path);
  for (int i = 0; i < 32; ++i) out << fmt::format("{:02x}", random() % 256);
}

// One agent beside each replica set's primary; `agents` maps the set's name to its address.
std::vector<std::unique_ptr<DemoAgent>> start_agents(const DemoCluster& cluster, const fs::path& dir, coordinator::AgentSettings& agents) {
  std::vector<std::unique_ptr<DemoAgent>> started;
  std::random_device device;
  agents.token = fmt::format("{:08x}{:08x}{:08x}{:08x}", device(), device(), device(), device());
  const fs::path token_file = dir / "agent.token";
  std::ofstream(token_file) << agents.token << "\n";
  fs::permissions(token_file, fs::perms::owner_read | fs::perms::owner_write);
  for (const auto& uri : cluster.set_uris()) {
    const auto set = mongo::discover_replica_set(mongo::Uri(uri));
    started.push_back(std::make_unique<DemoAgent>(dir / ("agent-" + set.name), set.primary, token_file));
    agents.agents[set.name].push_back(started.back()->address());
    fmt::print("agent for {} beside {} listens on {}\n", set.name, set.primary, started.back()->address());
  }
  return started;
}

template <typename Operation>
auto with_progress(const Context& context, Progress& progress, Operation operation) {
  ProgressView view(progress, !context.show_progress());
  return operation();
}

void run(const DemoFlags& flags, const Context& context) {
  // Steps print on stdout and logs on stderr: line-buffer stdout so they interleave in order.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const fs::path dir = flags.dir.empty() ? fs::temp_directory_path() / fmt::format("shardsafe-demo-{}", getpid()) : fs::path(flags.dir);
  fs::create_directories(dir);
  step("starting a sandbox cluster: 2 shards x 3 members, a config server, a mongos");
  DemoCluster cluster(dir / "cluster", flags.port ? flags.port : 28000 + getpid() % 2000 * 4);
  fmt::print("mongos: {}\n", cluster.mongos_uri());
  mongo::Client mongos{mongo::Uri(cluster.mongos_uri())};

  step("starting one shardsafe agent beside each replica set's primary");
  coordinator::AgentSettings agents;
  const auto running_agents = start_agents(cluster, dir, agents);
  const coordinator::StorageLocation location{"file://" + (dir / "backups").string(), {}};

  step(fmt::format("loading {} orders (sharded over both shards), 997 customers, a capped collection and indexes", flags.documents));
  load_dataset(mongos, flags.documents);
  const auto original = fingerprint_cluster(cluster);
  fmt::print("{} namespaces fingerprinted, through the mongos and on each shard (count + SHA-256 of documents in _id "
             "order + index specs)\n", original.size());

  step("backing up the cluster through the agents (zstd, AES-256-GCM) to " + (dir / "backups").string());
  write_key_file(dir / "backup.key", 7);
  write_key_file(dir / "wrong.key", 8);
  auto storage = storage::open_storage(location.url, {});
  coordinator::BackupRequest backup;
  backup.uri = cluster.mongos_uri();
  backup.dump.stream.encryption = storage::load_key_from_file((dir / "backup.key").string());
  backup.agents = agents;
  backup.storage_location = location;
  Progress progress;
  const auto manifest = with_progress(context, progress, [&] { return coordinator::run_backup(backup, *storage, progress); });
  fmt::print("backup {}: {} replica sets, {} documents, {} raw -> {} stored, consistent at {}\n", manifest.id,
             manifest.replica_sets.size(), manifest.total_documents(), human_bytes(manifest.total_raw_bytes()),
             human_bytes(manifest.total_stored_bytes()), manifest.consistency_point.to_string());
  for (const auto& agent : running_agents) {
    const auto files = std::distance(fs::directory_iterator(agent->status_files()), fs::directory_iterator());
    fmt::print("  agent {}: {} status file(s) in {}\n", agent->address(), files, agent->status_files().string());
  }

  step("breaking the data: drop shop.orders (sharded), overwrite every customer's email, drop metrics.events");
  break_dataset(mongos);
  const auto broken = fingerprint_cluster(cluster);
  fmt::print("{} namespaces now differ from the backup\n", differing_namespaces(original, broken));

  step("restoring with the wrong key: must be refused and change nothing");
  coordinator::RestoreRequest restore;
  restore.backup_id = manifest.id;
  restore.target_uri = cluster.mongos_uri();
  restore.options.drop = true;
  restore.agents = agents;
  restore.storage_location = location;
  restore.options.key = storage::load_key_from_file((dir / "wrong.key").string());
  try {
    coordinator::run_restore(restore, *storage, progress);
    throw Error(ErrorCode::kInternal, "a restore with the wrong key succeeded");
  } catch (const Error& error) {
    if (error.code() != ErrorCode::kWrongKey) throw;
    fmt::print("refused: {}\n", error.what());
  }
  if (differing_namespaces(broken, fingerprint_cluster(cluster)) != 0) throw Error(ErrorCode::kInternal, "the refused restore changed the target");
  fmt::print("target unchanged\n");

  step("restoring the whole cluster with --drop: every shard in parallel through its agent, then the config server");
  restore.options.key = storage::load_key_from_file((dir / "backup.key").string());
  const auto summary = with_progress(context, progress, [&] { return coordinator::run_restore(restore, *storage, progress); });
  fmt::print("restored {} collections, {} documents, {} indexes, {} oplog entries replayed\n", summary.collections,
             summary.documents, summary.indexes, summary.oplog_applied);

  step("verifying, through the mongos and on each shard");
  const auto restored = fingerprint_cluster(cluster);
  for (const auto& [ns, print] : restored) {
    const bool same = original.count(ns) && original.at(ns) == print;
    fmt::print("  {:<30} {:>7} docs  {}  {}\n", ns, print.documents, print.sha256.substr(0, 16), same ? "identical" : "DIFFERENT");
  }
  if (const std::size_t differing = differing_namespaces(original, restored)) {
    throw Error(ErrorCode::kInternal, fmt::format("{} namespaces differ after the restore", differing));
  }
  fmt::print("\ndemo passed: the routed view and every shard are identical to the backup\n");
  if (!flags.keep) fs::remove_all(dir / "backups");
}

}  // namespace

void add_demo_verb(CLI::App& app, Context& context) {
  auto flags = std::make_shared<DemoFlags>();
  auto* verb = app.add_subcommand("demo", "back up a sandbox sharded cluster through agents, break it, restore it, verify it");
  verb->add_option("--dir", flags->dir, "working directory (default: a new folder under /tmp)");
  verb->add_option("--port", flags->port, "first port of the sandbox cluster");
  verb->add_option("--documents", flags->documents, "orders to load")->check(CLI::Range(2, 10000000));
  verb->add_flag("--keep", flags->keep, "keep the backup folder");
  verb->callback([flags, &context] { run(*flags, context); });
}

}  // namespace shardsafe::cli

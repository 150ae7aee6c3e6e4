// shardsafe demo: the whole story on a throwaway sandbox replica set.
//   start a 3-member sandbox set, load a dataset, back it up (zstd + AES-256-GCM) to a folder,
//   break the data, show that a restore with the wrong key is refused and changes nothing,
//   restore with --drop, and prove every collection is back byte for byte.
#include <fmt/format.h>
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

fs::path sandbox_binary() {
  return fs::read_symlink("/proc/self/exe").parent_path() / "shardsafe-sandbox";
}

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

// The sandbox replica set for the demo; stopped when this goes out of scope.
class DemoCluster {
 public:
  DemoCluster(const fs::path& dir, int port) : dir_(dir) {
    const std::string output = run_and_capture(fmt::format("'{}' up --dir '{}' --replset demo --members 3 --port {}",
                                                           sandbox_binary().string(), dir.string(), port));
    try {
      uri_ = nlohmann::json::parse(output).at("uri").get<std::string>();
    } catch (const nlohmann::json::exception&) {
      throw Error(ErrorCode::kInternal, "the sandbox did not start (see the logs under " + dir.string() + "): " + output);
    }
  }
  ~DemoCluster() {
    if (std::system(fmt::format("'{}' down --dir '{}' >/dev/null", sandbox_binary().string(), dir_.string()).c_str()) != 0) {
      fmt::print(stderr, "demo: could not stop the sandbox under {}\n", dir_.string());
    }
  }
  const std::string& uri() const { return uri_; }

 private:
  fs::path dir_;
  std::string uri_;
};

void step(const std::string& text) { fmt::print("\n== {}\n", text); }

void load_dataset(mongo::Client& client, int documents) {
  std::mt19937 random(42);
  const std::array kCities = {"Lisbon", "Osaka", "Lagos", "Lima", "Oslo", "Hanoi"};
  std::vector<mongo::Bson> batch;
  auto flush = [&](const std::string& db, const std::string& collection) {
    std::vector<std::span<const std::uint8_t>> raw;
    for (const auto& doc : batch) raw.push_back(doc.bytes());
    client.insert_many(db, collection, raw, true, mongo::BsonBuilder().append("w", "majority").build());
    batch.clear();
  };
  for (int i = 0; i < documents; ++i) {
    batch.push_back(mongo::BsonBuilder()
                        .append("_id", std::int64_t{i})
                        .append("customer", fmt::format("customer-{}", i % 997))
                        .append("city", kCities[random() % kCities.size()])
                        .append("total", static_cast<double>(random() % 100000) / 100.0)
                        .append("items", static_cast<std::int32_t>(random() % 12))
                        .append("note", std::string(200 + random() % 300, 'x'))
                        .build());
    if (batch.size() == 1000) flush("shop", "orders");
  }
  if (!batch.empty()) flush("shop", "orders");
  for (int i = 0; i < 997; ++i) {
    batch.push_back(mongo::BsonBuilder()
                        .append("_id", fmt::format("customer-{}", i))
                        .append("email", fmt::format("c{}@example.com", i))
                        .append("vip", i % 10 == 0)
                        .build());
  }
  flush("shop", "customers");
  client.command("shop", mongo::Bson::from_json(R"({"createIndexes": "customers", "indexes": [
      {"key": {"email": 1}, "name": "email_unique", "unique": true}]})"));
  client.command("shop", mongo::Bson::from_json(R"({"createIndexes": "orders", "indexes": [
      {"key": {"city": 1, "total": -1}, "name": "city_total"}]})"));
  client.command("metrics", mongo::Bson::from_json(R"({"create": "events", "capped": true, "size": 1048576})"));
  for (int i = 0; i < 500; ++i) {
    batch.push_back(mongo::BsonBuilder().append("_id", std::int64_t{i}).append("kind", "page_view").build());
  }
  flush("metrics", "events");
}

void break_dataset(mongo::Client& client) {
  client.command("shop", mongo::BsonBuilder().append("drop", "orders").build());
  client.command("shop", mongo::Bson::from_json(R"({"update": "customers", "updates": [
      {"q": {}, "u": {"$set": {"email": "lost"}, "$unset": {"vip": 1}}, "multi": true}]})"));
  client.command("metrics", mongo::BsonBuilder().append("drop", "events").build());
}

std::size_t differing_namespaces(const std::map<std::string, dump::CollectionFingerprint>& a,
                                 const std::map<std::string, dump::CollectionFingerprint>& b) {
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

void run(const DemoFlags& flags, const Context& context) {
  // Steps print on stdout and logs on stderr: line-buffer stdout so they interleave in order.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const fs::path dir = flags.dir.empty() ? fs::temp_directory_path() / fmt::format("shardsafe-demo-{}", getpid()) : fs::path(flags.dir);
  fs::create_directories(dir);
  step("starting a 3-member sandbox replica set");
  DemoCluster cluster(dir / "cluster", flags.port ? flags.port : 28000 + getpid() % 2000 * 3);
  fmt::print("replica set: {}\n", cluster.uri());
  mongo::Client client{mongo::Uri(cluster.uri())};

  step(fmt::format("loading {} orders, 997 customers, a capped collection and indexes", flags.documents));
  load_dataset(client, flags.documents);
  const auto original = dump::fingerprint(client);
  fmt::print("{} namespaces fingerprinted (count + SHA-256 of documents in _id order + index specs)\n", original.size());

  step("backing up (zstd, AES-256-GCM) to " + (dir / "backups").string());
  write_key_file(dir / "backup.key", 7);
  write_key_file(dir / "wrong.key", 8);
  auto storage = storage::open_storage("file://" + (dir / "backups").string(), {});
  coordinator::BackupRequest backup;
  backup.uri = cluster.uri();
  backup.dump.stream.encryption = storage::load_key_from_file((dir / "backup.key").string());
  Progress progress;
  catalog::Manifest manifest;
  {
    ProgressView view(progress, !context.show_progress());
    manifest = coordinator::run_backup(backup, *storage, progress);
  }
  fmt::print("backup {}: {} documents, {} raw -> {} stored, consistent at {}\n", manifest.id, manifest.total_documents(),
             human_bytes(manifest.total_raw_bytes()), human_bytes(manifest.total_stored_bytes()),
             manifest.consistency_point.to_string());

  step("breaking the data: drop shop.orders, overwrite every customer's email, drop metrics.events");
  break_dataset(client);
  const auto broken = dump::fingerprint(client);
  fmt::print("{} namespaces now differ from the backup\n", differing_namespaces(original, broken));

  step("restoring with the wrong key: must be refused and change nothing");
  coordinator::RestoreRequest restore;
  restore.backup_id = manifest.id;
  restore.target_uri = cluster.uri();
  restore.options.drop = true;
  restore.options.key = storage::load_key_from_file((dir / "wrong.key").string());
  try {
    coordinator::run_restore(restore, *storage, progress);
    throw Error(ErrorCode::kInternal, "a restore with the wrong key succeeded");
  } catch (const Error& error) {
    if (error.code() != ErrorCode::kWrongKey) throw;
    fmt::print("refused: {}\n", error.what());
  }
  if (differing_namespaces(broken, dump::fingerprint(client)) != 0) {
    throw Error(ErrorCode::kInternal, "the refused restore changed the target");
  }
  fmt::print("target unchanged\n");

  step("restoring with --drop");
  restore.options.key = storage::load_key_from_file((dir / "backup.key").string());
  dump::RestoreSummary summary;
  {
    ProgressView view(progress, !context.show_progress());
    summary = coordinator::run_restore(restore, *storage, progress);
  }
  fmt::print("restored {} collections, {} documents, {} indexes, {} oplog entries replayed\n", summary.collections,
             summary.documents, summary.indexes, summary.oplog_applied);

  step("verifying");
  const auto restored = dump::fingerprint(client);
  const std::size_t differing = differing_namespaces(original, restored);
  for (const auto& [ns, print] : restored) {
    const bool same = original.count(ns) && original.at(ns) == print;
    fmt::print("  {:<24} {:>7} docs  {}  {}\n", ns, print.documents, print.sha256.substr(0, 16), same ? "identical" : "DIFFERENT");
  }
  if (differing != 0) throw Error(ErrorCode::kInternal, fmt::format("{} namespaces differ after the restore", differing));
  fmt::print("\ndemo passed: every namespace is identical to the backup\n");
  if (!flags.keep) fs::remove_all(dir / "backups");
}

}  // namespace

void add_demo_verb(CLI::App& app, Context& context) {
  auto flags = std::make_shared<DemoFlags>();
  auto* verb = app.add_subcommand("demo", "back up a sandbox replica set, break it, restore it, verify it");
  verb->add_option("--dir", flags->dir, "working directory (default: a new folder under /tmp)");
  verb->add_option("--port", flags->port, "first port of the sandbox members");
  verb->add_option("--documents", flags->documents, "orders to load")->check(CLI::Range(1, 10000000));
  verb->add_flag("--keep", flags->keep, "keep the backup folder");
  verb->callback([flags, &context] { run(*flags, context); });
}

}  // namespace shardsafe::cli

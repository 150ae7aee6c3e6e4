// Whole sharded-cluster backup and restore against one shard's worth of data (the issue's
// targets: a 2-shard cluster takes at most 1.3x the time of one of its shards alone):
//   Backup/<mode>   run_backup of the cluster through its mongos, against run_backup of a
//                   standalone replica set holding what one shard holds
//   Restore/<mode>  the cluster's backup into the cluster with --drop, against the set's backup
//                   into the set with --drop
// <mode> local: every set's job runs in this process; agents: one `shardsafe agent` process
// beside each replica set's member (cfg, shard0, shard1, and the standalone set), as on hosts.
// Each iteration times the set and then the cluster; the counters are the medians (shard_ms,
// cluster_ms, and their MiB/s) and `ratio`, the median of cluster / shard per iteration
// (target <= 1.3). shard_cpu_s and cluster_cpu_s are the medians of the CPU seconds this
// process, every sandbox process and every agent used meanwhile: with few cores, a cluster
// that needs twice the CPU of one shard cannot take much less than twice its time. Data: SHARDSAFE_BENCH_MIB (default 256) of ~1 KiB documents, half on each
// shard: bench.data sharded on _id (7/8 of it, one chunk per shard), bench.side0 unsharded on
// shard0 and other.side1 unsharded on shard1 (1/16 each). The set holds shard0's half: the
// same bench.data ids and bench.side0. Peak RSS of the coordinator in agent mode is measured by
// bench/cluster_rss.sh.
#include <benchmark/benchmark.h>
#include <sched.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "common/log.h"
#include "coordinator/backup.h"
#include "coordinator/cluster_dataset.h"
#include "coordinator/restore.h"
#include "mongo/topology.h"
#include "storage/open.h"
#include "support/agent_process.h"
#include "support/sandbox.h"
#include "support/sandbox_cluster.h"

namespace shardsafe {
namespace {

using namespace bench;
using testing::AgentProcess;
using testing::SandboxReplSet;
using testing::SandboxShardedCluster;
using testing::TempDir;
using testing::run;

// Calls visit(/proc/<pid>) for this process and every process whose command line mentions
// one of `dirs` (the sandbox members, routers and agents started in them).
void for_each_process_in(const std::vector<std::string>& dirs, const std::function<void(const std::filesystem::path&)>& visit) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmdline(entry.path() / "cmdline");
    const std::string args{std::istreambuf_iterator<char>(cmdline), {}};
    const bool ours = pid == std::to_string(::getpid()) ||
                      std::any_of(dirs.begin(), dirs.end(), [&](const std::string& dir) { return args.find(dir) != std::string::npos; });
    if (ours) visit(entry.path());
  }
}

// User + system CPU seconds used so far by the processes for_each_process_in visits. A process
// that ends meanwhile is not counted: these all live as long as the benchmark.
double cpu_seconds(const std::vector<std::string>& dirs) {
  long ticks = 0;
  for_each_process_in(dirs, [&](const std::filesystem::path& process) {
    // /proc/<pid>/stat: utime and stime are fields 14 and 15; the command name (field 2) may
    // hold spaces, so count from the ')' that closes it, which ends field 2.
    std::ifstream stat(process / "stat");
    const std::string line{std::istreambuf_iterator<char>(stat), {}};
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i < 14; ++i) fields >> field;
    long user = 0, system = 0;
    if (fields >> user >> system) ticks += user + system;
  });
  return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Pins every thread of the processes started in `dirs` (not this one) to `cpu`; threads they
// start later inherit it.
void pin_processes(const std::vector<std::string>& dirs, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  for_each_process_in(dirs, [&](const std::filesystem::path& process) {
    if (process.filename() == std::to_string(::getpid())) return;
    std::error_code error;
    for (const auto& task : std::filesystem::directory_iterator(process / "task", error)) {
      ::sched_setaffinity(std::stoi(task.path().filename().string()), sizeof set, &set);
    }
  });
}

// A deployment the benchmarks back up and restore, and the agents serving its sets.
struct Target {
  std::string uri;
  coordinator::AgentSettings agents;
  std::int64_t documents = 0;
  std::uint64_t bytes = 0;
};

struct World {
  SandboxShardedCluster sharded{{.shards = 2, .members = 1, .config_members = 1}};
  SandboxReplSet one_shard{{.name = "one", .members = 1, .oplog_size_mb = 64}};
  TempDir agent_dir;
  std::vector<std::unique_ptr<AgentProcess>> agents;
  // bench.data's documents on each shard, and those of each unsharded collection.
  const std::int64_t half = documents_for(bench_bytes() * 7 / 16);
  const std::int64_t side = documents_for(bench_bytes() / 16);
  Target cluster{.uri = sharded.mongos_uri()};
  Target shard{.uri = one_shard.uri()};

  World() {
    init_logging("warn");  // the jobs' info lines would bury the results
    load_cluster();
    load_shard();
    start_agents();
    if (std::getenv("SHARDSAFE_BENCH_CORE_PER_SHARD")) give_each_shard_its_own_core();
  }

  // What separate hosts give each shard: shard0's member and agent on core 0, shard1's on
  // core 1, the lone set's on core 0 like the shard it stands for; the config server, the
  // router and the coordinator float. Then the cluster has one core per shard, as the lone
  // set has one, and the ratio measures how the work of two shards overlaps.
  void give_each_shard_its_own_core() const {
    const auto in = [](const std::filesystem::path& dir) { return dir.string() + "/"; };
    pin_processes({in(sharded.dir() / sharded.shard_names()[0]), in(agent_dir.path() / sharded.shard_names()[0])}, 0);
    pin_processes({in(sharded.dir() / sharded.shard_names()[1]), in(agent_dir.path() / sharded.shard_names()[1])}, 1);
    pin_processes({in(one_shard.dir()), in(agent_dir.path() / "one")}, 0);
  }

  // bench.data's ids [0, half) on shard0 and [half, 2 * half) on shard1, chunks placed before
  // the load so that no migration copies data.
  void load_cluster() {
    mongo::Client mongos{mongo::Uri(cluster.uri)};
    const auto& shards = sharded.shard_names();
    run(mongos, "admin", R"({"enableSharding": "bench", "primaryShard": ")" + shards[0] + R"("})");
    run(mongos, "admin", R"({"enableSharding": "other", "primaryShard": ")" + shards[1] + R"("})");
    run(mongos, "admin", R"({"shardCollection": "bench.data", "key": {"_id": 1}})");
    run(mongos, "admin", R"({"split": "bench.data", "middle": {"_id": )" + std::to_string(half) + "}}");
    run(mongos, "admin", R"({"moveChunk": "bench.data", "find": {"_id": )" + std::to_string(half) + R"(}, "to": ")" + shards[1] + R"("})");
    cluster.bytes = insert_kilobyte_documents(mongos, "bench", "data", 0, 2 * half) +
                    insert_kilobyte_documents(mongos, "bench", "side0", 0, side) +
                    insert_kilobyte_documents(mongos, "other", "side1", 0, side);
    cluster.documents = 2 * half + 2 * side;
  }

  void load_shard() {
    mongo::Client client{mongo::Uri(shard.uri)};
    shard.bytes = insert_kilobyte_documents(client, "bench", "data", 0, half) + insert_kilobyte_documents(client, "bench", "side0", 0, side);
    shard.documents = half + side;
  }

  // Where the processes whose CPU time counts were started (see cpu_seconds).
  std::vector<std::string> process_dirs() const {
    return {sharded.dir().string(), one_shard.dir().string(), agent_dir.path().string()};
  }

  // One agent per replica set, beside its (only) member.
  void start_agents() {
    const auto token_file = agent_dir.path() / "token";
    cluster.agents.token = shard.agents.token = testing::write_token_file(token_file);
    const auto add = [&](Target& target, const std::string& set, const std::string& member) {
      agents.push_back(std::make_unique<AgentProcess>(agent_dir.path() / set, token_file, member));
      target.agents.agents[set].push_back(agents.back()->address());
    };
    add(cluster, "config", mongo::discover_replica_set(mongo::Uri(sharded.config_uri())).primary);
    for (std::size_t i = 0; i < sharded.shard_names().size(); ++i) {
      add(cluster, sharded.shard_names()[i], sharded.shard_members(static_cast<int>(i)).front());
    }
    add(shard, "one", one_shard.hosts().front());
  }
};

World& world() {
  static World instance;
  return instance;
}

// Runs `operation`, appends the CPU seconds our processes used meanwhile to `cpu`, and returns
// the wall milliseconds it took (the /proc scans are outside the timed part).
template <typename Operation>
double timed(std::vector<double>& cpu, Operation operation) {
  const std::vector<std::string> dirs = world().process_dirs();
  const double cpu_before = cpu_seconds(dirs);
  const auto start = Clock::now();
  operation();
  const double elapsed = milliseconds_since(start);
  cpu.push_back(cpu_seconds(dirs) - cpu_before);
  return elapsed;
}

// A file:// storage in a fresh directory, and where agents find it.
struct Backups {
  TempDir dir;
  coordinator::StorageLocation location{"file://" + dir.path().string(), {}};
  std::unique_ptr<storage::Storage> storage = storage::open_storage(location.url, {});
};

// The documents of the loaded databases in a manifest (a cluster's also has the config
// server's): a backup that is fast because it missed some must not look good.
std::int64_t loaded_documents(const catalog::Manifest& manifest) {
  std::int64_t documents = 0;
  for (const auto& set : manifest.replica_sets) {
    for (const auto& collection : set.collections) {
      if (collection.db == "bench" || collection.db == "other") documents += static_cast<std::int64_t>(collection.documents);
    }
  }
  return documents;
}

// The same, counted on the deployment after a restore.
std::int64_t loaded_documents(const std::string& uri) {
  mongo::Client client{mongo::Uri(uri)};
  const auto count = [&](const std::string& db, const std::string& collection) {
    const auto reply = client.command(db, mongo::BsonBuilder().append("count", collection).build());
    return mongo::BsonView(reply).integer("n").value_or(0);
  };
  return count("bench", "data") + count("bench", "side0") + count("other", "side1");
}

catalog::Manifest backup(const Target& target, Backups& backups, bool use_agents) {
  coordinator::BackupRequest request;
  request.uri = target.uri;
  if (use_agents) {
    request.agents = target.agents;
    request.storage_location = backups.location;
  }
  Progress progress;
  return coordinator::run_backup(request, *backups.storage, progress);
}

double timed_backup(benchmark::State& state, const Target& target, bool use_agents, std::vector<double>& cpu) {
  Backups backups;  // making and removing the output folder is not the backup's cost
  catalog::Manifest manifest;
  const double elapsed = timed(cpu, [&] { manifest = backup(target, backups, use_agents); });
  if (loaded_documents(manifest) != target.documents) state.SkipWithError("the backup missed documents");
  return elapsed;
}

double timed_restore(benchmark::State& state, const Target& target, const std::string& backup_id, Backups& backups, bool use_agents,
                     std::vector<double>& cpu) {
  coordinator::RestoreRequest request;
  request.backup_id = backup_id;
  request.target_uri = target.uri;
  request.options.drop = true;
  if (use_agents) {
    request.agents = target.agents;
    request.storage_location = backups.location;
  }
  Progress progress;
  const double elapsed = timed(cpu, [&] { coordinator::run_restore(request, *backups.storage, progress); });
  if (loaded_documents(target.uri) != target.documents) state.SkipWithError("the restore missed documents");
  return elapsed;
}

double mib_per_second(std::uint64_t bytes, double milliseconds) { return static_cast<double>(bytes) / (1 << 20) / (milliseconds / 1000); }

// CPU seconds of each iteration, per side.
struct CpuTimes {
  std::vector<double> shard, cluster;
};

void report(benchmark::State& state, const SideBySide& times, const CpuTimes& cpu, bool use_agents) {
  const double shard_ms = median(times.baseline_ms), cluster_ms = median(times.subject_ms);
  state.counters["shard_ms"] = shard_ms;
  state.counters["cluster_ms"] = cluster_ms;
  state.counters["shard_MiB/s"] = mib_per_second(world().shard.bytes, shard_ms);
  state.counters["cluster_MiB/s"] = mib_per_second(world().cluster.bytes, cluster_ms);
  state.counters["ratio"] = median_ratio(times.subject_ms, times.baseline_ms);
  state.counters["shard_cpu_s"] = median(cpu.shard);
  state.counters["cluster_cpu_s"] = median(cpu.cluster);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * world().cluster.bytes));
  state.SetLabel(use_agents ? "agents" : "local");
}

// Arg: 1 for agent mode.
void Backup(benchmark::State& state) {
  const bool use_agents = state.range(0);
  World& w = world();
  CpuTimes cpu;
  const auto times = time_side_by_side(state, [&] { return timed_backup(state, w.shard, use_agents, cpu.shard); },
                                       [&] { return timed_backup(state, w.cluster, use_agents, cpu.cluster); });
  report(state, times, cpu, use_agents);
}

void Restore(benchmark::State& state) {
  const bool use_agents = state.range(0);
  World& w = world();
  Backups shard_backups, cluster_backups;  // apart: two backups may be named for the same second
  const std::string shard_backup = backup(w.shard, shard_backups, false).id;
  const std::string cluster_backup = backup(w.cluster, cluster_backups, false).id;
  CpuTimes cpu;
  const auto times =
      time_side_by_side(state, [&] { return timed_restore(state, w.shard, shard_backup, shard_backups, use_agents, cpu.shard); },
                        [&] { return timed_restore(state, w.cluster, cluster_backup, cluster_backups, use_agents, cpu.cluster); });
  report(state, times, cpu, use_agents);
}

BENCHMARK(Backup)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3)->UseManualTime();
BENCHMARK(Restore)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3)->UseManualTime();

}  // namespace
}  // namespace shardsafe

BENCHMARK_MAIN();

// `shardsafe pitr start|stop|status` as an operator runs it: a foreground process slicing a
// sandbox deployment every second, stopped by SIGTERM or `pitr stop`, killed with SIGKILL and
// restarted; restores to points written while it ran, and while it was dead, hold exactly the
// writes up to them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "cli/cli_runner.h"
#include "coordinator/cluster_dataset.h"
#include "dump/fingerprint.h"
#include "mongo/client.h"
#include "mongo/topology.h"
#include "support/agent_process.h"
#include "support/eventually.h"
#include "support/sandbox.h"
#include "support/sandbox_cluster.h"

namespace shardsafe {
namespace {

using mongo::Timestamp;
using testing::eventually;
using testing::last_json;
using testing::SandboxReplSet;
using testing::SandboxShardedCluster;
using testing::shardsafe;
using testing::TempDir;
using namespace std::chrono_literals;

// `shardsafe pitr start` as a child process, its output in a log file.
class PitrProcess {
 public:
  PitrProcess(const std::string& arguments, std::filesystem::path log) : log_(std::move(log)) {
    const std::string command = "exec " + (testing::build_dir() / "shardsafe").string() + " --quiet pitr start " + arguments +
                                " >>" + log_.string() + " 2>&1";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl("/bin/sh", "sh", "-c", command.c_str(), nullptr);
      _exit(127);
    }
  }
  ~PitrProcess() {
    if (pid_ > 0) kill_hard();
  }
  PitrProcess(const PitrProcess&) = delete;
  PitrProcess& operator=(const PitrProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `signal` and returns the exit code (-1 when a signal ended it).
  int stop(int signal) {
    ::kill(pid_, signal);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void kill_hard() { stop(SIGKILL); }
  // The exit code once it ended by itself.
  int wait() { return stop(0); }
  // The exit code if it has ended.
  std::optional<int> exited() {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

class PitrCliTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string storage_ = "--storage file://" + (dir_.path() / "backups").string();

  nlohmann::json run_json(const std::string& arguments) {
    const auto run = shardsafe("--json " + arguments + " " + storage_);
    EXPECT_EQ(run.exit_code, 0) << arguments << ": " << run.out;
    return last_json(run.out);
  }
  nlohmann::json status() { return run_json("pitr status"); }
  // A slice committed after `point`, by a live runner.
  bool sliced_past(Timestamp point) {
    const auto state = status();
    return state.at("running") == true && !state.at("last_backup").get<std::string>().empty() &&
           Timestamp::parse(state.at("last_slice_end").get<std::string>()) >= point;
  }
  // Everything since the full backup is restorable: one window, no gap.
  void expect_one_window() {
    const auto timeline = run_json("list").at("timeline");
    EXPECT_EQ(timeline.at("windows").size(), 1u) << timeline.dump(2);
    EXPECT_TRUE(timeline.at("gaps").empty()) << timeline.dump(2);
  }
  std::unique_ptr<PitrProcess> start(const std::string& uri, const std::string& log, const std::string& extra = "") {
    // A short lease: a runner killed mid-slice leaves the lock to its successor within 5 s.
    return std::make_unique<PitrProcess>("--span 1s --lock-lease 5 --uri '" + uri + "' " + storage_ + extra, dir_.path() / log);
  }
};

class PitrReplicaSetTest : public PitrCliTest {
 protected:
  void SetUp() override {
    insert(0, 50);
    run_json("backup --uri '" + source_.uri() + "'");
  }
  void insert(int from, int to) {
    std::vector<mongo::Bson> docs;
    for (int i = from; i < to; ++i) docs.push_back(mongo::BsonBuilder().append("_id", i).append("v", i).build());
    std::vector<std::span<const std::uint8_t>> raw;
    for (const auto& doc : docs) raw.push_back(doc.bytes());
    client_.insert_many("app", "orders", raw, true);
  }
  // The newest write's optime with the data as it is then.
  std::pair<Timestamp, std::map<std::string, dump::CollectionFingerprint>> point() {
    return {mongo::newest_oplog_ts(client_), dump::fingerprint(client_)};
  }
  std::map<std::string, dump::CollectionFingerprint> restored_at(Timestamp to) {
    SandboxReplSet target({.name = "pitrtarget", .members = 1});
    const auto run = shardsafe("restore --to-time '" + to.to_string() + "' --uri '" + target.uri() + "' " + storage_);
    EXPECT_EQ(run.exit_code, 0) << run.out;
    mongo::Client restored{mongo::Uri(target.uri())};
    return dump::fingerprint(restored);
  }

  SandboxReplSet source_{{.name = "pitrsrc", .members = 1}};
  mongo::Client client_{mongo::Uri(source_.uri())};
};

TEST_F(PitrReplicaSetTest, SigtermCutsAFinalSliceCoveringTheLastWrites) {
  auto pitr = start(source_.uri(), "pitr.log");
  ASSERT_TRUE(eventually([&] { return sliced_past({}); }, 60s)) << pitr->log();

  const auto second = shardsafe("--json pitr start --span 1s --uri '" + source_.uri() + "' " + storage_);
  EXPECT_EQ(second.exit_code, 14) << second.out;  // conflict
  EXPECT_NE(second.out.find("pid " + std::to_string(pitr->pid())), std::string::npos) << second.out;
  const auto shown = last_json(shardsafe("--json status " + storage_).out).at("pitr");
  EXPECT_EQ(shown.at("running"), true);
  EXPECT_EQ(shown.at("pid"), pitr->pid());

  insert(50, 60);
  const auto [middle, at_middle] = point();
  // An increment taken by hand meanwhile (it waits for a slice holding the lock): the runner's
  // next slice continues after it, not after its own previous one.
  EXPECT_EQ(run_json("backup --incremental --uri '" + source_.uri() + "'").at("kind"), "incremental");
  insert(60, 70);
  const auto [last, at_last] = point();
  EXPECT_EQ(pitr->stop(SIGTERM), 0) << pitr->log();

  const auto stopped = status();
  EXPECT_EQ(stopped.at("running"), false);
  EXPECT_EQ(stopped.at("state"), "stopped");
  EXPECT_GE(Timestamp::parse(stopped.at("last_slice_end").get<std::string>()), last) << "the final slice covers the last write";
  expect_one_window();
  EXPECT_EQ(restored_at(middle), at_middle);
  EXPECT_EQ(restored_at(last), at_last);
}

TEST_F(PitrReplicaSetTest, KillNineThenRestartLeavesNoGapAndPitrStopEndsIt) {
  auto pitr = start(source_.uri(), "first.log");
  ASSERT_TRUE(eventually([&] { return sliced_past({}); }, 60s)) << pitr->log();
  insert(50, 55);
  pitr->kill_hard();  // mid-run: perhaps mid-slice, holding the lock
  insert(55, 60);
  const auto [while_dead, at_while_dead] = point();
  insert(60, 65);
  const auto [after, at_after] = point();

  auto restarted = start(source_.uri(), "second.log");  // takes over at once: the pid is gone
  // Captured by name: clang 14 (the sanitizer builds) cannot capture a structured binding.
  ASSERT_TRUE(eventually([&, after = after] { return sliced_past(after); }, 60s)) << restarted->log();
  const auto stop = shardsafe("--json pitr stop " + storage_);
  EXPECT_EQ(stop.exit_code, 0) << stop.out;
  EXPECT_EQ(restarted->wait(), 0) << restarted->log();
  EXPECT_EQ(status().at("running"), false);
  EXPECT_EQ(shardsafe("pitr stop " + storage_).exit_code, 3) << "nothing runs any more";

  // A slice no committed increment lists (what a runner killed mid-slice leaves) goes with
  // delete --incomplete; the listed ones stay (the restores below read them).
  const auto orphan = dir_.path() / "backups" / "oplog" / "pitrsrc" / "1.0000000001-2.0000000001.bson";
  std::ofstream(orphan) << "leftover";
  const auto deleted = run_json("delete --incomplete").at("deleted_slices");  // with any the kill left
  EXPECT_NE(std::find(deleted.begin(), deleted.end(), "oplog/pitrsrc/1.0000000001-2.0000000001.bson"), deleted.end())
      << deleted.dump();
  EXPECT_FALSE(std::filesystem::exists(orphan));

  expect_one_window();
  EXPECT_EQ(restored_at(while_dead), at_while_dead);
  EXPECT_EQ(restored_at(after), at_after);
}

TEST_F(PitrReplicaSetTest, AFailedTickIsRecordedAndRetriedAtTheNext) {
  auto pitr = start(source_.uri(), "failing.log", " --lock-wait 0");
  ASSERT_TRUE(eventually([&] { return sliced_past({}); }, 60s)) << pitr->log();
  // Another operation's live lease on the set: every tick fails while it lasts.
  const auto far = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
                   3'600'000;
  const mongo::Bson lease = mongo::BsonBuilder()
                                .append("_id", "shardsafe")
                                .append("operation", "restore")
                                .append("owner", "elsewhere:1")
                                .append_date("expires_at", far)
                                .build();
  // Retried while a slice holds the lock (an ordered insert throws on the duplicate key).
  ASSERT_TRUE(eventually([&] { return client_.insert_many("admin", "shardsafe.lock", {lease.bytes()}, true).inserted == 1; }, 30s));
  ASSERT_TRUE(eventually([&] { return status().at("last_error").get<std::string>().find("restore holds the lock") != std::string::npos; }, 30s))
      << pitr->log();
  const auto slices = status().at("slices").get<int>();
  client_.command("admin", mongo::Bson::from_json(R"({"delete": "shardsafe.lock", "deletes": [{"q": {}, "limit": 0}]})"));
  EXPECT_TRUE(eventually([&] { const auto state = status(); return state.at("last_error") == "" && state.at("slices") > slices; }, 30s))
      << pitr->log();
  EXPECT_EQ(pitr->stop(SIGTERM), 0) << pitr->log();
  expect_one_window();
}

TEST_F(PitrReplicaSetTest, ARunnerWhoseStateAnotherTookOverStopsWithAConflict) {
  auto pitr = start(source_.uri(), "taken.log");
  ASSERT_TRUE(eventually([&] { return sliced_past({}); }, 60s)) << pitr->log();
  auto state = status();
  state["host"] = "another-host";
  state["pid"] = 1;
  // Written again until the runner notices: its own heartbeat may land just after a write.
  std::optional<int> exit_code;
  for (int attempt = 0; attempt < 60 && !exit_code; ++attempt) {
    state["heartbeat_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
    std::ofstream(dir_.path() / "backups" / "pitr" / "state.json") << state.dump();
    std::this_thread::sleep_for(500ms);
    exit_code = pitr->exited();
  }
  EXPECT_EQ(exit_code, 14) << pitr->log();
  EXPECT_NE(pitr->log().find("another pitr took over"), std::string::npos) << pitr->log();
  EXPECT_EQ(status().at("host"), "another-host") << "the state is the new runner's";
}

TEST_F(PitrReplicaSetTest, SlicesThroughAnAgent) {
  testing::write_token_file(dir_.path() / "token");
  testing::AgentProcess agent(dir_.path() / "agent", dir_.path() / "token", source_.hosts().at(0));
  auto pitr = start(source_.uri(), "agent.log",
                    " --agents pitrsrc=" + agent.address() + " --agent-token-file " + (dir_.path() / "token").string());
  ASSERT_TRUE(eventually([&] { return sliced_past({}); }, 60s)) << pitr->log();
  insert(50, 60);
  const auto [written, at_written] = point();
  EXPECT_EQ(pitr->stop(SIGTERM), 0) << pitr->log();

  const auto operations = last_json(shardsafe("--json status " + storage_).out).at("operations");
  ASSERT_FALSE(operations.empty());
  EXPECT_EQ(operations[0].at("kind"), "incremental");
  EXPECT_NE(operations[0].at("sets")[0].at("runs_on").get<std::string>().find("agent 127.0.0.1:"), std::string::npos)
      << operations.dump(2);
  EXPECT_EQ(restored_at(written), at_written);
}

TEST_F(PitrCliTest, ShardedClusterSlicesLandEveryShardOnOneTime) {
  SandboxShardedCluster cluster({.shards = 2, .members = 1, .config_members = 1});
  mongo::Client mongos{mongo::Uri(cluster.mongos_uri())};
  testing::load_cluster_dataset(mongos, cluster.shard_names(), 100);
  testing::run(mongos, "admin", R"({"balancerStop": 1})");  // chunk moves are not replayable yet (see the cluster PIT test)
  run_json("backup --uri '" + cluster.mongos_uri() + "'");

  auto pitr = start(cluster.mongos_uri(), "cluster.log");
  ASSERT_TRUE(eventually([&] { return sliced_past({}); }, 60s)) << pitr->log();
  const mongo::Bson reply = mongos.command(
      "shop", mongo::Bson::from_json(R"({"insert": "orders", "documents": [{"_id": -1, "total": 5}, {"_id": 500, "total": 6}]})"));
  const Timestamp written = *mongo::BsonView(reply).timestamp("operationTime");
  const auto at_written = dump::fingerprint_cluster(mongo::Uri(cluster.mongos_uri()));
  testing::run(mongos, "shop", R"({"delete": "orders", "deletes": [{"q": {"_id": {"$in": [-1, 500]}}, "limit": 0}]})");
  EXPECT_EQ(pitr->stop(SIGTERM), 0) << pitr->log();

  // Every slice holds both shards and the config server, each cut at the slice's one time.
  int slices = 0;
  const auto listed = run_json("list");
  for (const auto& backup : listed.at("backups")) {
    if (backup.at("kind") != "incremental") continue;
    ++slices;
    const auto described = run_json("describe --backup " + backup.at("id").get<std::string>());
    ASSERT_EQ(described.at("replica_sets").size(), 3u) << described.dump(2);
    for (const auto& set : described.at("replica_sets")) {
      EXPECT_EQ(set.at("end_optime"), described.at("consistency_point")) << described.dump(2);
    }
  }
  EXPECT_GE(slices, 2) << listed.dump(2);
  SandboxShardedCluster target({.shards = 2, .members = 1, .config_members = 1});
  const auto restore = shardsafe("restore --to-time '" + written.to_string() + "' --uri '" + target.mongos_uri() + "' --drop " + storage_);
  ASSERT_EQ(restore.exit_code, 0) << restore.out;
  EXPECT_EQ(dump::fingerprint_cluster(mongo::Uri(target.mongos_uri())), at_written);
}

}  // namespace
}  // namespace shardsafe

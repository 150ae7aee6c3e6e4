// deploy/: the systemd units pass `systemd-analyze verify`, and the Kubernetes manifests hold
// together (the ports, paths and grace periods that must agree do).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "server/cron.h"
#include "storage/s3rver.h"
#include "storage/temp_dir.h"

namespace shardsafe::server {
namespace {

namespace fs = std::filesystem;

fs::path deploy_dir() { return fs::path(storage::testing::source_dir()) / "deploy"; }

std::pair<int, std::string> run(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  return {pclose(pipe), out};
}

std::string read_file(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The number after `flag` in `text` ("--shutdown-grace 120"), or -1.
int number_after(const std::string& text, const std::string& flag) {
  std::smatch match;
  if (!std::regex_search(text, match, std::regex(flag + R"([ =]\"?(\d+))"))) return -1;
  return std::stoi(match[1]);
}

TEST(DeployTest, SystemdUnitsVerify) {
  if (run("command -v systemd-analyze").first != 0) GTEST_SKIP() << "systemd-analyze is not installed (scripts/setup.sh installs it)";
  // A root holding systemd's own units, the shardsafe binary at the units' path, and ours.
  storage::testing::TempDir root;
  fs::create_directories(root.path() / "usr/lib/systemd");
  fs::create_directories(root.path() / "usr/bin");
  fs::create_directories(root.path() / "etc/systemd/system");
  fs::copy("/usr/lib/systemd/system", root.path() / "usr/lib/systemd/system", fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  const fs::path binary = fs::path(std::getenv("SHARDSAFE_BUILD_DIR")) / "shardsafe";
  std::error_code linked;
  fs::create_hard_link(binary, root.path() / "usr/bin/shardsafe", linked);
  if (linked) fs::copy_file(binary, root.path() / "usr/bin/shardsafe");
  for (const char* unit : {"shardsafe-server.service", "shardsafe-agent.service"}) {
    fs::copy_file(deploy_dir() / "systemd" / unit, root.path() / "etc/systemd/system" / unit);
  }
  const auto [status, out] = run("systemd-analyze verify --root=" + root.path().string() + " shardsafe-server.service shardsafe-agent.service");
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "") << "no warnings";

  const std::string server = read_file(deploy_dir() / "systemd/shardsafe-server.service");
  EXPECT_NE(server.find("ExecStart=/usr/bin/shardsafe server --config /etc/shardsafe/server.yaml"), std::string::npos);
  EXPECT_GT(number_after(server, "TimeoutStopSec"), number_after(server, "--shutdown-grace"))
      << "systemd must not SIGKILL before running jobs had their grace period";
  const std::string agent = read_file(deploy_dir() / "systemd/shardsafe-agent.service");
  EXPECT_NE(agent.find("--token-file"), std::string::npos);
}

YAML::Node find_kind(const std::vector<YAML::Node>& documents, const std::string& kind) {
  for (const auto& document : documents) {
    if (document["kind"].as<std::string>() == kind) return document;
  }
  ADD_FAILURE() << "no " << kind;
  return {};
}

TEST(DeployTest, ServerManifestsAgree) {
  const auto documents = YAML::LoadAllFromFile((deploy_dir() / "kubernetes/server.yaml").string());
  const YAML::Node deployment = find_kind(documents, "Deployment");
  const YAML::Node config = YAML::Load(find_kind(documents, "ConfigMap")["data"]["server.yaml"].as<std::string>());
  const YAML::Node service = find_kind(documents, "Service");
  const YAML::Node spec = deployment["spec"]["template"]["spec"];
  EXPECT_EQ(deployment["spec"]["replicas"].as<int>(), 1) << "one server per job history";
  EXPECT_EQ(deployment["spec"]["strategy"]["type"].as<std::string>(), "Recreate");
  const YAML::Node container = spec["containers"][0];
  const auto args = container["args"].as<std::vector<std::string>>();
  ASSERT_GE(args.size(), 3u);
  EXPECT_EQ(args[0], "server");
  EXPECT_EQ(args[1], "--config");
  std::string joined;
  for (const auto& arg : args) joined += arg + " ";
  EXPECT_GT(spec["terminationGracePeriodSeconds"].as<int>(), number_after(joined, "--shutdown-grace"));

  const std::string listen = config["server"]["listen"].as<std::string>();
  const int port = std::stoi(listen.substr(listen.rfind(':') + 1));
  EXPECT_EQ(listen.substr(0, listen.rfind(':')), "0.0.0.0") << "reachable from the Service";
  EXPECT_EQ(container["ports"][0]["containerPort"].as<int>(), port);
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz") << "the one route without a token";
  EXPECT_EQ(service["spec"]["ports"][0]["port"].as<int>(), port);
  EXPECT_EQ(service["spec"]["selector"]["app.kubernetes.io/name"].as<std::string>(),
            deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"].as<std::string>());

  std::map<std::string, std::string> mounts;
  for (const auto& mount : container["volumeMounts"]) mounts[mount["name"].as<std::string>()] = mount["mountPath"].as<std::string>();
  EXPECT_EQ(mounts["config"], args[2]);
  EXPECT_EQ(config["server"]["token_file"].as<std::string>().rfind(mounts["secret"] + "/", 0), 0u) << "the token comes from the Secret";
  EXPECT_EQ(config["server"]["data_dir"].as<std::string>(), mounts["data"]) << "the job history is on the volume";
  for (const auto& cluster : config["clusters"]) {
    for (const auto& schedule : cluster.second["schedule"]) {
      EXPECT_NO_THROW(CronSchedule(schedule.second.as<std::string>())) << schedule.first.as<std::string>();
    }
  }
}

TEST(DeployTest, FullBackupCronJob) {
  const auto documents = YAML::LoadAllFromFile((deploy_dir() / "kubernetes/full-backup-cronjob.yaml").string());
  const YAML::Node cronjob = find_kind(documents, "CronJob");
  EXPECT_EQ(cronjob["apiVersion"].as<std::string>(), "batch/v1");
  EXPECT_NO_THROW(CronSchedule(cronjob["spec"]["schedule"].as<std::string>()));
  EXPECT_EQ(cronjob["spec"]["timeZone"].as<std::string>(), "Etc/UTC");
  EXPECT_EQ(cronjob["spec"]["concurrencyPolicy"].as<std::string>(), "Forbid");
  const YAML::Node pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
  EXPECT_EQ(pod["restartPolicy"].as<std::string>(), "Never");
  const auto args = pod["containers"][0]["args"].as<std::vector<std::string>>();
  ASSERT_EQ(args.size(), 1u);
  EXPECT_NE(args[0].find("shardsafe backup --uri"), std::string::npos);
  EXPECT_NE(args[0].find("--storage"), std::string::npos);
}

}  // namespace
}  // namespace shardsafe::server

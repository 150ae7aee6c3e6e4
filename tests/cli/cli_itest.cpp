// The shardsafe binary as a user runs it: verbs, --json output, exit codes, and errors that name
// the problem without leaking secrets.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dump/fingerprint.h"
#include "mongo/client.h"
#include "mongo/topology.h"
#include "storage/s3rver.h"
#include "cli/cli_runner.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using testing::SandboxReplSet;
using testing::TempDir;

using testing::last_json;
using testing::shardsafe;

class CliTest : public ::testing::Test {
 protected:
  TempDir dir_;
  SandboxReplSet source_{{.name = "cli", .members = 1}};
  std::string storage_ = "--storage file://" + (dir_.path() / "backups").string();

  void SetUp() override {
    mongo::Client client{mongo::Uri(source_.uri())};
    for (const char* coll : {"keep", "skip"}) {
      std::vector<mongo::Bson> docs;
      for (int i = 0; i < 100; ++i) docs.push_back(mongo::BsonBuilder().append("_id", i).build());
      std::vector<std::span<const std::uint8_t>> raw;
      for (const auto& doc : docs) raw.push_back(doc.bytes());
      client.insert_many("app", coll, raw, true);
    }
  }
  std::string backup() {
    const auto run = shardsafe("--json backup --uri '" + source_.uri() + "' " + storage_);
    EXPECT_EQ(run.exit_code, 0) << run.out;
    return last_json(run.out).at("id");
  }
};

TEST_F(CliTest, BackupListDescribeVerifyDelete) {
  const std::string id = backup();
  const auto list = shardsafe("--json list " + storage_);
  ASSERT_EQ(list.exit_code, 0) << list.out;
  const auto listed = last_json(list.out);
  ASSERT_EQ(listed.at("backups").size(), 1u);
  EXPECT_EQ(listed.at("backups")[0].at("id"), id);
  EXPECT_EQ(listed.at("backups")[0].at("documents"), 200);

  const auto describe = shardsafe("describe --backup " + id + " " + storage_);
  EXPECT_EQ(describe.exit_code, 0) << describe.out;
  EXPECT_NE(describe.out.find("app.keep"), std::string::npos) << describe.out;

  const auto verify = shardsafe("--json verify --backup " + id + " " + storage_);
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_TRUE(last_json(verify.out).at("ok").get<bool>());

  // Global options work after the verb too, as operators type them.
  const auto trailing = shardsafe("list " + storage_ + " --json -q");
  ASSERT_EQ(trailing.exit_code, 0) << trailing.out;
  EXPECT_EQ(last_json(trailing.out).at("backups").size(), 1u);

  const auto removed = shardsafe("delete --backup " + id + " " + storage_);
  EXPECT_EQ(removed.exit_code, 0) << removed.out;
  EXPECT_EQ(last_json(shardsafe("--json list " + storage_).out).at("backups").size(), 0u);
}

TEST_F(CliTest, RestoreWithNamespaceFilters) {
  const std::string id = backup();
  SandboxReplSet target({.name = "cli2", .members = 1});
  const auto run = shardsafe("restore --backup " + id + " --uri '" + target.uri() + "' --ns-exclude 'app.skip' " + storage_);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  mongo::Client client{mongo::Uri(target.uri())};
  const auto prints = dump::fingerprint(client);
  EXPECT_TRUE(prints.count("app.keep"));
  EXPECT_FALSE(prints.count("app.skip"));
}

TEST_F(CliTest, ErrorsNameTheProblemAndMapToExitCodes) {
  const auto unknown = shardsafe("restore --backup nope --uri '" + source_.uri() + "' " + storage_);
  EXPECT_EQ(unknown.exit_code, 3) << unknown.out;
  EXPECT_NE(unknown.out.find("backup \"nope\" not found"), std::string::npos) << unknown.out;

  const auto bad_uri = shardsafe("backup --uri 'mongodb://admin:hunter2@/x' " + storage_);
  EXPECT_EQ(bad_uri.exit_code, 2) << bad_uri.out;
  EXPECT_NE(bad_uri.out.find("invalid MongoDB URI"), std::string::npos) << bad_uri.out;
  EXPECT_EQ(bad_uri.out.find("hunter2"), std::string::npos) << bad_uri.out;

  const auto bad_size = shardsafe("backup --part-size 12parsecs --uri '" + source_.uri() + "' " + storage_);
  EXPECT_EQ(bad_size.exit_code, 2) << bad_size.out;
  EXPECT_NE(bad_size.out.find("--part-size"), std::string::npos) << bad_size.out;

  const auto no_storage = shardsafe("list");
  EXPECT_EQ(no_storage.exit_code, 2) << no_storage.out;
  EXPECT_NE(no_storage.out.find("no storage given"), std::string::npos) << no_storage.out;

  const auto json_error = shardsafe("--json describe --backup nope " + storage_);
  EXPECT_EQ(json_error.exit_code, 3);
  EXPECT_EQ(last_json(json_error.out).at("error").at("code"), "not_found") << json_error.out;
}

// S3 storage as an operator sets it up: the URL and its settings in the config file, the key
// in an environment variable. Secrets appear in no output.
TEST_F(CliTest, S3StorageFromTheConfigFileWithTheKeyFromTheEnvironment) {
  storage::testing::S3rver s3("cli-bucket");
  const auto config = (dir_.path() / "shardsafe.yaml").string();
  std::ofstream(config) << "storage:\n  url: s3://cli-bucket/prod\n  endpoint: " << s3.endpoint()
                        << "\n  path_style: true\n  access_key: " << storage::testing::kS3rverAccessKey
                        << "\n  secret_key: " << storage::testing::kS3rverSecretKey << "\n";
  const std::string key(64, 'c');
  ::setenv("SHARDSAFE_CLI_TEST_KEY", key.c_str(), 1);
  const auto storage = " --config " + config + " --encryption-key-env SHARDSAFE_CLI_TEST_KEY";
  std::string everything_printed;
  const auto run = [&](const std::string& arguments) {
    auto result = shardsafe(arguments);
    everything_printed += result.out;
    return result;
  };

  const auto backup = run("--json backup --part-size 64MiB --uri '" + source_.uri() + "'" + storage);
  ASSERT_EQ(backup.exit_code, 0) << backup.out;
  const std::string id = last_json(backup.out).at("id");
  const auto listed = last_json(run("--json list --config " + config).out);
  ASSERT_EQ(listed.at("backups").size(), 1u);
  EXPECT_TRUE(listed.at("backups")[0].at("encrypted").get<bool>());
  EXPECT_TRUE(last_json(run("--json verify --backup " + id + " --config " + config).out).at("ok").get<bool>());

  SandboxReplSet target({.name = "clis3", .members = 1});
  const auto keyless = run("restore --backup " + id + " --uri '" + target.uri() + "' --config " + config);
  EXPECT_EQ(keyless.exit_code, 8) << keyless.out;
  const auto restore = run("restore --backup " + id + " --uri '" + target.uri() + "'" + storage);
  ASSERT_EQ(restore.exit_code, 0) << restore.out;
  mongo::Client source{mongo::Uri(source_.uri())};
  mongo::Client restored{mongo::Uri(target.uri())};
  EXPECT_EQ(dump::fingerprint(restored), dump::fingerprint(source));

  EXPECT_EQ(run("delete --backup " + id + " --config " + config).exit_code, 0);
  EXPECT_EQ(last_json(run("--json list --config " + config).out).at("backups").size(), 0u);
  EXPECT_EQ(everything_printed.find(storage::testing::kS3rverSecretKey), std::string::npos) << everything_printed;
  EXPECT_EQ(everything_printed.find(key), std::string::npos) << everything_printed;
  ::unsetenv("SHARDSAFE_CLI_TEST_KEY");
}

// Incremental backups and point-in-time restore on S3 with encryption, as a user runs them:
// the timeline in `list`, verify of an increment, restore --to-time, retention.
TEST_F(CliTest, IncrementalBackupsRestoreToAPointInTimeOnS3) {
  storage::testing::S3rver s3("pitr-bucket");
  const auto config = (dir_.path() / "shardsafe.yaml").string();
  std::ofstream(config) << "storage:\n  url: s3://pitr-bucket/prod\n  endpoint: " << s3.endpoint()
                        << "\n  path_style: true\n  access_key: " << storage::testing::kS3rverAccessKey
                        << "\n  secret_key: " << storage::testing::kS3rverSecretKey << "\n";
  const std::string key_file = (dir_.path() / "key").string();
  std::ofstream(key_file) << std::string(64, 'e');
  const std::string options = " --config " + config + " --encryption-key-file " + key_file;
  const std::string uri = " --uri '" + source_.uri() + "'";
  const auto backup = [&](const std::string& flags) {
    const auto run = shardsafe("--json backup" + flags + uri + options);
    EXPECT_EQ(run.exit_code, 0) << run.out;
    return last_json(run.out);
  };
  mongo::Client source{mongo::Uri(source_.uri())};
  const std::string first_full = backup("").at("id");
  source.command("app", mongo::Bson::from_json(R"({"delete": "keep", "deletes": [{"q": {"_id": {"$lt": 50}}, "limit": 0}]})"));
  const auto point = mongo::newest_oplog_ts(source);
  const auto at_point = dump::fingerprint(source);
  source.command("app", mongo::Bson::from_json(R"({"drop": "skip"})"));
  const auto increment = backup(" --incremental");
  EXPECT_EQ(increment.at("kind"), "incremental");
  EXPECT_EQ(increment.at("base"), first_full);

  const auto listed = last_json(shardsafe("--json list --config " + config).out);
  ASSERT_EQ(listed.at("timeline").at("windows").size(), 1u);
  EXPECT_EQ(listed.at("timeline").at("windows")[0].at("base_backup"), first_full);
  const auto verify = shardsafe("--json verify --backup " + increment.at("id").get<std::string>() + " --config " + config);
  EXPECT_EQ(verify.exit_code, 0) << verify.out;

  SandboxReplSet target({.name = "clipitr", .members = 1});
  const auto restore = shardsafe("restore --to-time '" + point.to_string() + "' --uri '" + target.uri() + "'" + options);
  ASSERT_EQ(restore.exit_code, 0) << restore.out;
  mongo::Client restored{mongo::Uri(target.uri())};
  EXPECT_EQ(dump::fingerprint(restored), at_point);
  const auto bad_time = shardsafe("restore --to-time 'yesterday' --uri '" + target.uri() + "'" + options);
  EXPECT_EQ(bad_time.exit_code, 2) << bad_time.out;
  EXPECT_NE(bad_time.out.find("\"yesterday\""), std::string::npos) << bad_time.out;

  // Retention keeping one full backup: the first full backup goes with its increment, which
  // ends before the second full backup; the increment after it stays.
  const std::string second_full = backup("").at("id");
  const std::string last_increment = backup(" --incremental").at("id");
  const auto dry = last_json(shardsafe("--json delete --keep-last 1 --dry-run --config " + config).out);
  EXPECT_EQ(dry.at("deleted"), (nlohmann::json{first_full, increment.at("id")}));
  EXPECT_EQ(last_json(shardsafe("--json list --config " + config).out).at("backups").size(), 4u);
  const auto pruned = shardsafe("--json delete --keep-last 1 --config " + config);
  ASSERT_EQ(pruned.exit_code, 0) << pruned.out;
  const auto after = last_json(shardsafe("--json list --config " + config).out);
  ASSERT_EQ(after.at("backups").size(), 2u);
  EXPECT_EQ(after.at("backups")[0].at("id"), second_full);
  EXPECT_EQ(after.at("backups")[1].at("id"), last_increment);
  EXPECT_EQ(after.at("timeline").at("windows")[0].at("base_backup"), second_full);
}

}  // namespace
}  // namespace shardsafe

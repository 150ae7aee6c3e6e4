#include "server/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "storage/temp_dir.h"

namespace shardsafe::server {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  std::string write(const std::string& yaml) {
    const auto path = dir_.path() / "server.yaml";
    std::ofstream(path) << yaml;
    return path.string();
  }
  std::string error_of(const std::string& yaml) {
    try {
      load_server_config(write(yaml));
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
      return error.what();
    }
    return "accepted";
  }

  storage::testing::TempDir dir_;
  std::string token_file_ = [this] {
    std::ofstream(dir_.path() / "token") << "s3cret\n";
    return (dir_.path() / "token").string();
  }();
};

TEST_F(ConfigTest, ReadsTheDocumentedShape) {
  std::ofstream(dir_.path() / "agent-token") << "agent-s3cret\n";
  const auto config = load_server_config(write("server:\n  listen: 0.0.0.0:9000\n  token_file: " + token_file_ +
                                               "\n  data_dir: /tmp/x\nstorage:\n  url: s3://bucket/prefix?region=eu-west-1\n"
                                               "  access_key: AK\nagent_token_file: " + (dir_.path() / "agent-token").string() +
                                               "\nunknown_key: ignored\nclusters:\n"
                                               "  prod:\n    uri: mongodb://mongos1:27017\n    agents: {shard0: \"h0:8746\"}\n"
                                               "    schedule: {full: \"0 2 * * *\", incremental: \"*/15 * * * *\"}\n"
                                               "    retention: {keep_last: 7, keep_days: 30}\n"
                                               "  dev:\n    uri: mongodb://dev:27017\n"));
  EXPECT_EQ(config.host, "0.0.0.0");
  EXPECT_EQ(config.port, 9000);
  EXPECT_EQ(config.token, "s3cret");
  EXPECT_EQ(config.data_dir, "/tmp/x");
  ASSERT_EQ(config.clusters.size(), 2u);
  const auto& prod = config.clusters.at("prod");
  EXPECT_EQ(prod.storage.url, "s3://bucket/prefix/prod?region=eu-west-1");
  EXPECT_EQ(prod.storage.settings.at("access_key"), "AK");
  EXPECT_EQ(prod.agents.agents.at("shard0"), std::vector<std::string>{"h0:8746"});
  EXPECT_EQ(prod.agents.token, "agent-s3cret");
  EXPECT_EQ(prod.full_schedule->expression(), "0 2 * * *");
  EXPECT_EQ(prod.incremental_schedule->expression(), "*/15 * * * *");
  EXPECT_EQ(prod.retention->keep_last, 7u);
  EXPECT_EQ(prod.retention->keep_for, std::chrono::hours(24 * 30));
  const auto& dev = config.clusters.at("dev");
  EXPECT_FALSE(dev.full_schedule);
  EXPECT_FALSE(dev.retention);
  EXPECT_FALSE(dev.agents.enabled());
}

TEST_F(ConfigTest, RefusesWhatCannotRunNamingTheKey) {
  const std::string storage = "storage:\n  url: file:///tmp/b\n";
  const std::string server = "server:\n  token_file: " + token_file_ + "\n";
  EXPECT_NE(error_of(storage + "clusters:\n  a:\n    uri: mongodb://h\n").find("server.token_file"), std::string::npos);
  EXPECT_NE(error_of(server + "clusters:\n  a:\n    uri: mongodb://h\n").find("storage.url"), std::string::npos);
  EXPECT_NE(error_of(server + storage).find("clusters"), std::string::npos);
  EXPECT_NE(error_of(server + storage + "clusters:\n  a:\n    agents: {}\n").find("clusters.a.uri"), std::string::npos);
  EXPECT_NE(error_of(server + storage + "clusters:\n  a:\n    uri: mongodb://h\n    schedule: {full: \"0 25 * * *\"}\n").find("hour"),
            std::string::npos);
  EXPECT_NE(error_of(server + storage + "clusters:\n  a:\n    uri: mongodb://h\n    retention: {keep_last: 0}\n").find("keep_last"),
            std::string::npos);
  EXPECT_NE(error_of(server + storage + "clusters:\n  a:\n    uri: mongodb://h\n    agents: {shard0: \"h:1\"}\n").find("agent_token_file"),
            std::string::npos);
  EXPECT_NE(error_of(server + storage + "clusters:\n  ../x:\n    uri: mongodb://h\n").find("../x"), std::string::npos);
  EXPECT_NE(error_of("server:\n  token_file: /nonexistent\n" + storage + "clusters:\n  a:\n    uri: mongodb://h\n").find("/nonexistent"),
            std::string::npos);
}

TEST(ChildUrlTest, AppendsTheNameToThePathBeforeTheQuery) {
  EXPECT_EQ(child_url("file:///var/backups", "prod"), "file:///var/backups/prod");
  EXPECT_EQ(child_url("file:///var/backups/", "prod"), "file:///var/backups/prod");
  EXPECT_EQ(child_url("s3://bucket?endpoint=http://h:9000&path_style=true", "prod"), "s3://bucket/prod?endpoint=http://h:9000&path_style=true");
}

}  // namespace
}  // namespace shardsafe::server

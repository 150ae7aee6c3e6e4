// Jobs outlive their requests and stop at safe points: a client that disconnects cancels
// nothing, DELETE cancels, SIGTERM lets a running job stop cleanly; and the server works on S3
// storage (s3rver) as on files.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>

#include "catalog/catalog.h"
#include "server_process.h"
#include "storage/open.h"
#include "storage/s3rver.h"

namespace shardsafe::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::cluster_yaml;
using testing::file_storage;
using testing::get_json;
using testing::insert_items;
using testing::post_json;
using testing::SandboxReplSet;
using testing::ServerProcess;
using testing::TempDir;
using testing::wait_for_job;

// Enough data that a backup takes a while on the sandbox.
void load_rows(const std::string& uri) {
  mongo::Client client{mongo::Uri(uri)};
  std::vector<mongo::Bson> owned;
  // ~80 MiB: a backup of it takes several tenths of a second, so a job asked to stop 100 ms in is
  // still running (a backup of 8 MiB now ends sooner).
  for (int i = 0; i < 400000; ++i) owned.push_back(mongo::BsonBuilder().append("i", i).append("pad", std::string(200, 'x')).build());
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& doc : owned) raw.push_back(doc.bytes());
  client.insert_many("big", "rows", raw, true, mongo::BsonBuilder().append("w", 1).build());
}

class LifecycleTest : public ::testing::Test {
 protected:
  TempDir dir_;
  SandboxReplSet source_{{}};
  fs::path storage_root_ = dir_.path() / "storage";
};

TEST_F(LifecycleTest, AClientThatDisconnectsCancelsNothing) {
  insert_items(source_.uri(), 1000);
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri()));
  // The request is sent whole, and the connection closed before the answer is read.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(server.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const std::string body = R"({"kind":"full"})";
  const std::string request = "POST /api/v1/clusters/prod/backups HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + server.token() +
                              "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  ::close(fd);

  json jobs;
  for (int i = 0; i < 100 && (jobs = get_json(server, "/api/v1/jobs"))["jobs"].empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(jobs["jobs"].size(), 1u);
  EXPECT_EQ(wait_for_job(server, jobs["jobs"][0]["id"])["state"], "succeeded");
}

TEST_F(LifecycleTest, DeleteCancelsARunningJobWhichLeavesNoBackup) {
  load_rows(source_.uri());
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri()));
  const std::int64_t id = post_json(server, "/api/v1/clusters/prod/backups", "{}").second["job"];
  const auto cancel = server.client().Delete("/api/v1/jobs/" + std::to_string(id));
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->status, 200) << cancel->body;
  const json job = wait_for_job(server, id);
  EXPECT_EQ(job["state"], "cancelled") << job.dump(2);
  EXPECT_EQ(job["error"]["error"], "cancelled");
  EXPECT_TRUE(get_json(server, "/api/v1/clusters/prod/backups")["backups"].empty());
  EXPECT_TRUE(get_json(server, "/api/v1/clusters")["clusters"][0]["busy_job"].is_null()) << "the cluster is free again";
  // Cancelling a finished job changes nothing.
  EXPECT_EQ(json::parse(server.client().Delete("/api/v1/jobs/" + std::to_string(id))->body)["state"], "cancelled");
}

TEST_F(LifecycleTest, SigtermLetsARunningJobStopAtASafePoint) {
  load_rows(source_.uri());
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri()));
  const std::int64_t id = post_json(server, "/api/v1/clusters/prod/backups", "{}").second["job"];
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(server.terminate(), 0) << "every job stopped within the grace period\n" << server.log();
  server.launch();
  const json job = get_json(server, "/api/v1/jobs/" + std::to_string(id));
  EXPECT_EQ(job["state"], "cancelled") << job.dump(2);
  EXPECT_TRUE(get_json(server, "/api/v1/clusters/prod/backups")["backups"].empty());
  const auto storage = storage::open_storage("file://" + (storage_root_ / "prod").string(), {});
  catalog::Catalog catalog(*storage);
  EXPECT_TRUE(catalog.list_incomplete().empty()) << "the cancelled backup removed what it wrote";
}

TEST_F(LifecycleTest, BackupsGoToTheClustersPrefixOnS3) {
  insert_items(source_.uri(), 500);
  storage::testing::S3rver s3("backups");
  const std::string storage_yaml = "  url: s3://backups/shardsafe?endpoint=" + s3.endpoint() +
                                   "&region=us-east-1&path_style=true\n  access_key: S3RVER\n  secret_key: S3RVER\n";
  ServerProcess server(dir_.path(), storage_yaml, cluster_yaml("prod", source_.uri()) + cluster_yaml("staging", source_.uri()));
  const json job = wait_for_job(server, post_json(server, "/api/v1/clusters/prod/backups", "{}").second["job"]);
  ASSERT_EQ(job["state"], "succeeded") << job.dump(2);
  EXPECT_EQ(get_json(server, "/api/v1/clusters/prod/backups")["backups"].size(), 1u);
  EXPECT_TRUE(get_json(server, "/api/v1/clusters/staging/backups")["backups"].empty()) << "each cluster has its own prefix";
  const auto storage = storage::open_storage(s3.url("shardsafe/prod"), {});
  catalog::Catalog catalog(*storage);
  ASSERT_EQ(catalog.list().size(), 1u);
  EXPECT_EQ(catalog.list()[0].id, job["result"]["id"]);
  const json clusters = get_json(server, "/api/v1/clusters");
  EXPECT_EQ(clusters["clusters"].size(), 2u);
  EXPECT_EQ(server.log().find("S3RVER"), std::string::npos) << "storage keys are never logged";
}

}  // namespace
}  // namespace shardsafe::server

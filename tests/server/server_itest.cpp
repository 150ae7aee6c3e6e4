// `shardsafe server` driven over real HTTP, against sandbox replica sets and file:// storage:
// the token, backups and restores as jobs, the job history across restarts, validation.
#include <gtest/gtest.h>

#include <filesystem>

#include "mongo/client.h"
#include "server/job_store.h"
#include "server_process.h"
#include "storage/s3rver.h"
#include "support/sandbox.h"

namespace shardsafe::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::get_json;
using testing::post_json;
using testing::SandboxReplSet;
using testing::ServerProcess;
using testing::TempDir;
using testing::wait_for_job;
using testing::insert_items;
using testing::count_items;
using testing::file_storage;
using testing::cluster_yaml;

class ServerTest : public ::testing::Test {
 protected:
  TempDir dir_;
  SandboxReplSet source_{{}};
  fs::path storage_root_ = dir_.path() / "storage";
};

TEST_F(ServerTest, EveryRouteButHealthzNeedsTheToken) {
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri()));
  httplib::Client raw(server.base_url());
  const auto health = raw.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  for (const char* path : {"/api/v1/clusters", "/api/v1/jobs", "/api/v1/jobs/1", "/api/v1/clusters/prod/backups", "/metrics"}) {
    const auto answer = raw.Get(path);
    ASSERT_TRUE(answer) << path;
    EXPECT_EQ(answer->status, 401) << path;
    EXPECT_EQ(json::parse(answer->body)["error"], "unauthorized") << path;
  }
  const auto post = raw.Post("/api/v1/clusters/prod/backups", R"({"kind":"full"})", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 401);
  raw.set_bearer_token_auth(server.token() + "x");
  const auto wrong = raw.Get("/api/v1/jobs");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_TRUE(get_json(server, "/api/v1/jobs")["jobs"].empty()) << "no refused request started a job";
  EXPECT_EQ(server.log().find(server.token()), std::string::npos) << "the token is never logged";
}

TEST_F(ServerTest, ABackupJobRunsToTheClustersPrefixAndIsListedWithItsWindow) {
  insert_items(source_.uri(), 500);
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri()));
  const auto [status, started] = post_json(server, "/api/v1/clusters/prod/backups", R"({"kind":"full"})");
  ASSERT_EQ(status, 202) << started.dump();
  const json job = wait_for_job(server, started["job"]);
  ASSERT_EQ(job["state"], "succeeded") << job.dump(2);
  EXPECT_EQ(job["kind"], "full");
  EXPECT_EQ(job["result"]["documents"], 500);
  ASSERT_EQ(job["progress"]["replica_sets"].size(), 1u) << job.dump(2);
  EXPECT_EQ(job["progress"]["replica_sets"][0]["name"], "rs0");
  EXPECT_EQ(job["progress"]["replica_sets"][0]["documents"], 500) << "the dump's count, kept through the oplog phase";
  EXPECT_FALSE(job["log"].empty());
  const std::string id = job["result"]["id"];
  EXPECT_TRUE(fs::exists(storage_root_ / "prod" / "backups" / id / "manifest.json")) << "each cluster has its own prefix";

  const auto metrics = server.client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("shardsafe_pitr_lag_seconds{cluster=\"prod\"}"), std::string::npos) << metrics->body;

  const json listing = get_json(server, "/api/v1/clusters/prod/backups");
  ASSERT_EQ(listing["backups"].size(), 1u) << listing.dump(2);
  EXPECT_EQ(listing["backups"][0]["id"], id);
  EXPECT_EQ(listing["timeline"]["windows"].size(), 1u);
  EXPECT_TRUE(listing["timeline"]["gaps"].empty());

  const json jobs = get_json(server, "/api/v1/jobs");
  ASSERT_EQ(jobs["jobs"].size(), 1u);
  EXPECT_EQ(jobs["jobs"][0]["id"], started["job"]);
  const json clusters = get_json(server, "/api/v1/clusters");
  ASSERT_EQ(clusters["clusters"].size(), 1u);
  EXPECT_EQ(clusters["clusters"][0]["name"], "prod");
  EXPECT_TRUE(clusters["clusters"][0]["busy_job"].is_null());
}

TEST_F(ServerTest, RequestsAreValidatedNamingTheField) {
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri()));
  const auto [bad_json, bad_json_body] = post_json(server, "/api/v1/clusters/prod/backups", "{not json");
  EXPECT_EQ(bad_json, 400);
  EXPECT_EQ(bad_json_body["error"], "invalid_argument");
  const auto [unknown, unknown_body] = post_json(server, "/api/v1/clusters/prod/backups", R"({"kind":"full","speed":"fast"})");
  EXPECT_EQ(unknown, 400);
  EXPECT_NE(unknown_body["message"].get<std::string>().find("\"speed\""), std::string::npos) << unknown_body.dump();
  const auto [kind, kind_body] = post_json(server, "/api/v1/clusters/prod/backups", R"({"kind":"differential"})");
  EXPECT_EQ(kind, 400);
  EXPECT_NE(kind_body["message"].get<std::string>().find("\"kind\""), std::string::npos) << kind_body.dump();
  const auto [restore, restore_body] = post_json(server, "/api/v1/clusters/prod/restores", R"({"drop":true})");
  EXPECT_EQ(restore, 400) << restore_body.dump();
  const auto [to_time, to_time_body] = post_json(server, "/api/v1/clusters/prod/restores", R"({"to_time":"yesterday"})");
  EXPECT_EQ(to_time, 400) << to_time_body.dump();
  const auto [cluster, cluster_body] = post_json(server, "/api/v1/clusters/staging/backups", R"({"kind":"full"})");
  EXPECT_EQ(cluster, 404);
  EXPECT_EQ(cluster_body["error"], "not_found");
  const auto big = server.client().Post("/api/v1/clusters/prod/backups", std::string(1 << 20, ' '), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 400) << big->body;
  EXPECT_NE(big->body.find("larger than"), std::string::npos) << big->body;
  int status = 0;
  get_json(server, "/api/v1/jobs/999", &status);
  EXPECT_EQ(status, 404);
  EXPECT_TRUE(get_json(server, "/api/v1/jobs")["jobs"].empty()) << "no refused request started a job";
}

TEST_F(ServerTest, ASecondOperationOnABusyClusterIs409NamingTheRunningJob) {
  insert_items(source_.uri(), 20000);
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri()));
  const auto [status, first] = post_json(server, "/api/v1/clusters/prod/backups", R"({"kind":"full"})");
  ASSERT_EQ(status, 202);
  const auto [busy, busy_body] = post_json(server, "/api/v1/clusters/prod/restores", R"({"backup":"2026-01-01T00-00-00Z"})");
  EXPECT_EQ(busy, 409) << busy_body.dump();
  EXPECT_EQ(busy_body["error"], "conflict");
  EXPECT_NE(busy_body["message"].get<std::string>().find("job " + std::to_string(first["job"].get<int>())), std::string::npos)
      << busy_body.dump();
  EXPECT_EQ(wait_for_job(server, first["job"])["state"], "succeeded");
}

TEST_F(ServerTest, ARestoreJobPutsTheBackupBackAndABackupCanBeDeleted) {
  insert_items(source_.uri(), 300);
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri()));
  const json backup = wait_for_job(server, post_json(server, "/api/v1/clusters/prod/backups", "{}").second["job"]);
  ASSERT_EQ(backup["state"], "succeeded") << backup.dump(2);
  {
    mongo::Client client{mongo::Uri(source_.uri())};
    client.command("shop", mongo::BsonBuilder().append("drop", "items").build());
  }
  ASSERT_EQ(count_items(source_.uri()), 0);
  const std::string id = backup["result"]["id"];
  const auto [status, started] =
      post_json(server, "/api/v1/clusters/prod/restores", json({{"backup", id}, {"drop", true}, {"ns_include", {"shop.*"}}}).dump());
  ASSERT_EQ(status, 202) << started.dump();
  const json restore = wait_for_job(server, started["job"]);
  ASSERT_EQ(restore["state"], "succeeded") << restore.dump(2);
  EXPECT_EQ(restore["result"]["documents"], 300);
  EXPECT_EQ(count_items(source_.uri()), 300);

  const auto deleted = server.client().Delete("/api/v1/backups/" + id);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200) << deleted->body;
  EXPECT_TRUE(get_json(server, "/api/v1/clusters/prod/backups")["backups"].empty());
  const auto again = server.client().Delete("/api/v1/backups/" + id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);
}

TEST_F(ServerTest, AfterARestartTheHistoryRemainsAndARunningJobShowsInterrupted) {
  insert_items(source_.uri(), 200);
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri()));
  const json done = wait_for_job(server, post_json(server, "/api/v1/clusters/prod/backups", "{}").second["job"]);
  ASSERT_EQ(done["state"], "succeeded");
  {
    mongo::Client client{mongo::Uri(source_.uri())};
    std::vector<mongo::Bson> owned;
    for (int i = 0; i < 30000; ++i) owned.push_back(mongo::BsonBuilder().append("i", i).append("pad", std::string(200, 'x')).build());
    std::vector<std::span<const std::uint8_t>> raw;
    for (const auto& doc : owned) raw.push_back(doc.bytes());
    client.insert_many("big", "rows", raw, true, mongo::BsonBuilder().append("w", 1).build());
  }
  const std::int64_t running = post_json(server, "/api/v1/clusters/prod/backups", "{}").second["job"];
  server.kill_hard();
  server.launch();
  const json interrupted = get_json(server, "/api/v1/jobs/" + std::to_string(running));
  EXPECT_EQ(interrupted["state"], "failed") << interrupted.dump(2);
  EXPECT_NE(interrupted["error"]["message"].get<std::string>().find("interrupted"), std::string::npos) << interrupted.dump(2);
  EXPECT_EQ(get_json(server, "/api/v1/jobs/" + std::to_string(done["id"].get<int>()))["state"], "succeeded");
  EXPECT_EQ(get_json(server, "/api/v1/jobs")["jobs"].size(), 2u);
}

TEST_F(ServerTest, ListingsArePagedNewestFirst) {
  insert_items(source_.uri(), 10);
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri()));
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const json job = wait_for_job(server, post_json(server, "/api/v1/clusters/prod/backups", "{}").second["job"]);
    ASSERT_EQ(job["state"], "succeeded") << job.dump(2);
    ids.push_back(job["result"]["id"]);
  }
  const json first = get_json(server, "/api/v1/clusters/prod/backups?limit=2");
  ASSERT_EQ(first["backups"].size(), 2u);
  EXPECT_EQ(first["total"], 3);
  EXPECT_EQ(first["backups"][0]["id"], ids[2]);
  EXPECT_EQ(first["backups"][1]["id"], ids[1]);
  EXPECT_EQ(first["next"], ids[1]);
  EXPECT_EQ(first["timeline"]["windows"].size(), 3u);
  const json second = get_json(server, "/api/v1/clusters/prod/backups?limit=2&after=" + ids[1]);
  ASSERT_EQ(second["backups"].size(), 1u);
  EXPECT_EQ(second["backups"][0]["id"], ids[0]);
  EXPECT_TRUE(second["next"].is_null());
  int status = 0;
  get_json(server, "/api/v1/clusters/prod/backups?after=2020-01-01T00-00-00Z", &status);
  EXPECT_EQ(status, 404);
  const json bad_limit = get_json(server, "/api/v1/clusters/prod/backups?limit=0", &status);
  EXPECT_EQ(status, 400);
  EXPECT_NE(bad_limit["message"].get<std::string>().find("\"limit\""), std::string::npos) << bad_limit.dump();

  const json jobs = get_json(server, "/api/v1/jobs?limit=2");
  ASSERT_EQ(jobs["jobs"].size(), 2u);
  EXPECT_EQ(jobs["jobs"][0]["id"], 3);
  EXPECT_EQ(jobs["jobs"][1]["id"], 2);
  const json older = get_json(server, "/api/v1/jobs?limit=2&before=2");
  ASSERT_EQ(older["jobs"].size(), 1u);
  EXPECT_EQ(older["jobs"][0]["id"], 1);
}

TEST_F(ServerTest, WithACertificateTheApiIsServedOverHttpsOnly) {
  const storage::testing::SelfSignedCertificate certificate;
  ServerProcess server(dir_.path(), file_storage(storage_root_), cluster_yaml("prod", source_.uri()),
                       "  tls_cert: " + certificate.certificate_file() + "\n  tls_key: " + certificate.key_file() + "\n");
  httplib::SSLClient trusting("127.0.0.1", server.port());
  trusting.set_ca_cert_path(certificate.certificate_file().c_str());
  trusting.set_bearer_token_auth(server.token());
  const auto clusters = trusting.Get("/api/v1/clusters");
  ASSERT_TRUE(clusters) << httplib::to_string(clusters.error());
  EXPECT_EQ(clusters->status, 200);
  EXPECT_EQ(json::parse(clusters->body)["clusters"][0]["name"], "prod");
  httplib::Client plain(server.base_url());
  plain.set_bearer_token_auth(server.token());
  const auto refused = plain.Get("/api/v1/clusters");
  EXPECT_TRUE(!refused || refused->status != 200) << "plain HTTP gets no answer from an HTTPS server";
  httplib::SSLClient distrusting("127.0.0.1", server.port());
  distrusting.enable_server_certificate_verification(true);
  distrusting.set_bearer_token_auth(server.token());
  EXPECT_FALSE(distrusting.Get("/api/v1/clusters")) << "a certificate nobody vouched for is refused by the client";
}

}  // namespace
}  // namespace shardsafe::server

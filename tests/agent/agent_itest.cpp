// The agent's HTTP API, against a real `shardsafe agent` process on loopback: the token on
// every request, the job API through AgentClient, and a clear error for an agent that is gone.
#include <gtest/gtest.h>
#include <httplib.h>

#include "agent/client.h"
#include "storage/s3rver.h"
#include "support/agent_process.h"
#include "support/sandbox.h"

namespace shardsafe::agent {
namespace {

using testing::AgentProcess;
using testing::TempDir;

class AgentApiTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string token_ = testing::write_token_file(dir_.path() / "token");
  AgentProcess agent_{dir_.path() / "data", dir_.path() / "token", ""};
};

TEST_F(AgentApiTest, EveryRequestWithoutTheTokenGets401AndRunsNothing) {
  httplib::Client raw("http://" + agent_.address());
  const nlohmann::json job = {{"id", "j1"}, {"kind", "backup"}, {"params", {{"uri", "mongodb://127.0.0.1:1"}}}};
  const auto without = raw.Post("/v1/jobs", job.dump(), "application/json");
  ASSERT_TRUE(without);
  EXPECT_EQ(without->status, 401);
  EXPECT_EQ(nlohmann::json::parse(without->body)["error"], "unauthorized");
  for (const char* path : {"/v1/health", "/v1/jobs", "/v1/jobs/j1"}) {
    const auto answer = raw.Get(path);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 401) << path;
  }
  raw.set_bearer_token_auth("not-the-token");
  const auto wrong = raw.Post("/v1/jobs", job.dump(), "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(wrong->body.find(token_), std::string::npos);

  AgentClient with_wrong_token({agent_.address(), "not-the-token", ""});
  try {
    with_wrong_token.list();
    FAIL() << "a wrong token was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kUnauthorized);
    EXPECT_NE(std::string(error.what()).find(agent_.address()), std::string::npos) << error.what();
  }
  AgentClient client({agent_.address(), token_, ""});
  EXPECT_TRUE(client.list().empty()) << "no refused request started a job";
  EXPECT_EQ(client.health()["ok"], true);
}

TEST_F(AgentApiTest, JobsAreStartedOnceAndReportTheirFailure) {
  AgentClient client({agent_.address(), token_, ""});
  // A backup of a server that is not there: the job runs, fails, and says why.
  const JobSpec spec{"b1.rs0.backup", "backup", {{"uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"},
                                                 {"prefix", "backups/b1/"},
                                                 {"storage", {{"url", "file://" + (dir_.path() / "store").string()}}}}};
  client.start(spec);
  client.start(spec);
  JobStatus status = client.status(spec.id);
  for (int i = 0; i < 200 && !is_final(status.state); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = client.status(spec.id);
  }
  EXPECT_EQ(status.state, JobState::kFailed);
  ASSERT_TRUE(status.error.has_value());
  EXPECT_EQ(status.error->code, "connection") << status.error->message;
  EXPECT_EQ(client.list().size(), 1u) << "the second start of the same id started nothing";
  try {
    client.start({"j2", "format-disk", {}});
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(error.what()).find("unknown job kind"), std::string::npos) << error.what();
  }
  try {
    client.status("no-such-job");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kNotFound);
  }
}

TEST_F(AgentApiTest, AnUnreachableAgentIsNamed) {
  const std::string address = agent_.address();
  agent_.kill_hard();
  AgentClient client({address, token_, ""});
  try {
    client.health();
    FAIL() << "a dead agent answered";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kConnection);
    EXPECT_NE(std::string(error.what()).find("agent \"" + address + "\" is unreachable"), std::string::npos) << error.what();
  }
}

TEST(AgentTls, AnAgentWithACertificateServesHttpsToClientsThatTrustIt) {
  TempDir dir;
  const std::string token = testing::write_token_file(dir.path() / "token");
  const storage::testing::SelfSignedCertificate certificate;
  AgentProcess agent(dir.path() / "data", dir.path() / "token", "", certificate.certificate_file(), certificate.key_file());

  AgentClient trusting({"https://" + agent.address(), token, certificate.certificate_file()});
  EXPECT_EQ(trusting.health()["ok"], true);

  AgentClient plain({agent.address(), token, ""});
  EXPECT_THROW(plain.health(), Error) << "plain HTTP to a TLS agent gets no answer";
  AgentClient distrusting({"https://" + agent.address(), token, ""});
  try {
    distrusting.health();
    FAIL() << "a certificate nobody vouched for was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kConnection);
    EXPECT_NE(std::string(error.what()).find(agent.address()), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace shardsafe::agent

// shardsafe agent: the daemon beside a mongod that runs the coordinator's jobs (agent/).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "agent/http_server.h"
#include "agent/jobs.h"
#include "cli/context.h"
#include "cli/stop_signals.h"
#include "common/error.h"
#include "server/config.h"

namespace shardsafe::cli {
namespace {

struct AgentFlags {
  std::string listen = "127.0.0.1:8746";
  std::string data_dir;
  std::string token_file;
  std::string mongod_uri;
  std::string tls_cert;
  std::string tls_key;
};

void run(const AgentFlags& flags, const Context& context) {
  // The agent stops in one known place: the server first, then the runner cancels its jobs.
  StopSignals stop_signals;
  const auto [host, port] = server::parse_listen(flags.listen, "--listen");
  agent::JobRunner runner(agent::replica_set_job_kinds(agent::open_storage_from_params), agent::JobRunnerOptions{flags.data_dir});
  agent::AgentServer server(runner, {host, port, server::read_token_file(flags.token_file, "token"), flags.tls_cert, flags.tls_key, flags.mongod_uri});
  const std::string address = fmt::format("{}:{}", host, server.port());
  // One line on stdout once the port is bound, so a supervisor (or a test) knows where it is.
  if (context.json) {
    fmt::print("{}\n", nlohmann::json({{"listening", address}, {"data_dir", flags.data_dir}}).dump());
  } else {
    fmt::print("agent listening on {}\n", address);
  }
  std::fflush(stdout);
  std::jthread serving([&server] { server.run(); });
  const int received = stop_signals.wait();
  spdlog::info("agent: signal {} received, stopping", received);
  server.stop();
}

}  // namespace

void add_agent_verb(CLI::App& app, Context& context) {
  auto flags = std::make_shared<AgentFlags>();
  auto* verb = app.add_subcommand("agent", "run the agent beside a mongod: it runs the coordinator's jobs and keeps their status files");
  verb->add_option("--listen", flags->listen, "HOST:PORT to serve the job API on (port 0: any free port)");
  verb->add_option("--data-dir", flags->data_dir, "where the status files live (<dir>/jobs/<id>.json)")->required();
  verb->add_option("--token-file", flags->token_file, "file holding the bearer token every request must carry")->required();
  verb->add_option("--mongod-uri", flags->mongod_uri,
                   "the mongod this agent runs beside (mongodb://host:port/?directConnection=true): lets coordinators "
                   "check that the agent fronts the member they chose");
  verb->add_option("--tls-cert", flags->tls_cert, "PEM certificate: serve HTTPS");
  verb->add_option("--tls-key", flags->tls_key, "PEM private key of --tls-cert");
  verb->callback([flags, &context] { run(*flags, context); });
}

}  // namespace shardsafe::cli

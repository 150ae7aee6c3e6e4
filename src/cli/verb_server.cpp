// shardsafe server: the control plane (server/): REST API, scheduler, job history, metrics and
// the dashboard, for the clusters of one config file.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <thread>

#include "cli/context.h"
#include "cli/stop_signals.h"
#include "server/service.h"

namespace shardsafe::cli {
namespace {

struct ServerFlags {
  std::string config_path;
  int shutdown_grace_s = 60;
};

void run(const ServerFlags& flags, const Context& context) {
  StopSignals stop_signals;  // before any thread starts
  server::ServerConfig config = server::load_server_config(flags.config_path);
  const std::string host = config.host;
  server::Service service(std::move(config));
  const std::string address = fmt::format("{}:{}", host, service.port());
  // One line on stdout once the port is bound, so a supervisor (or a test) knows where it is.
  if (context.json) {
    fmt::print("{}\n", nlohmann::json({{"listening", address}}).dump());
  } else {
    fmt::print("server listening on {}\n", address);
  }
  std::fflush(stdout);
  std::thread serving([&service] { service.run(); });
  const int received = stop_signals.wait();
  spdlog::info("server: signal {} received: stopping; running jobs get {} s to reach a safe point", received, flags.shutdown_grace_s);
  const bool all_stopped = service.stop(std::chrono::seconds(flags.shutdown_grace_s));
  serving.join();
  if (!all_stopped) {
    // The jobs still running are recorded as interrupted; their threads cannot be joined.
    spdlog::error("server: stopping with jobs still running (recorded as interrupted)");
    std::fflush(nullptr);
    std::_Exit(error_code_info(ErrorCode::kCancelled).exit_code);
  }
}

}  // namespace

void add_server_verb(CLI::App& app, Context& context) {
  auto flags = std::make_shared<ServerFlags>();
  auto* verb = app.add_subcommand("server", "run the control plane: REST API, scheduled backups and retention, metrics, dashboard");
  verb->add_option("--config", flags->config_path, "YAML: server (listen, token_file, TLS), storage, clusters")->required();
  verb->add_option("--shutdown-grace", flags->shutdown_grace_s,
                   "seconds running jobs get to reach a safe point on SIGTERM before they are recorded as interrupted")
      ->check(CLI::Range(1, 3600));
  verb->callback([flags, &context] { run(*flags, context); });
}

}  // namespace shardsafe::cli

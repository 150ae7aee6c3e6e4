// shardsafe: backup and restore for MongoDB. Every verb is a thin layer over one coordinator
// call; errors map to exit codes through the one table in common/error.h.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <malloc.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "common/error.h"
#include "common/log.h"
#include "version.h"

namespace {

int report_error(const shardsafe::cli::Context& context, const shardsafe::Error& error) {
  if (context.json) {
    const nlohmann::json out = {{"error", {{"code", error.info().name}, {"message", error.what()}}}};
    std::cout << out.dump(2) << "\n";
  }
  fmt::print(stderr, "shardsafe: error: {}\n", error.what());
  return error.info().exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates its own arena (up to 8 per core) and keeps what is
  // freed there. A restore's many short-lived transfer and insert threads each freeing MiB-sized
  // buffers then held RSS well above the live data (370 MiB for a 1 GiB restore from S3, 221
  // MiB with two arenas, at the same speed).
  mallopt(M_ARENA_MAX, 2);
  shardsafe::cli::Context context;
  CLI::App app{"shardsafe: backup and restore for MongoDB replica sets and sharded clusters"};
  app.set_version_flag("--version", std::string("shardsafe ") + shardsafe::kVersion);
  app.require_subcommand(1);
  app.add_flag("--json", context.json, "print results as JSON on stdout");
  app.add_flag("--quiet,-q", context.quiet, "no progress output");
  app.add_option("--log-level", context.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.parse_complete_callback([&] { shardsafe::init_logging(context.log_level); });
  // Verbs inherit this: `shardsafe list --json` works as well as `shardsafe --json list`.
  app.fallthrough();
  shardsafe::cli::add_backup_verb(app, context);
  shardsafe::cli::add_restore_verb(app, context);
  shardsafe::cli::add_catalog_verbs(app, context);
  shardsafe::cli::add_transfer_verbs(app, context);
  shardsafe::cli::add_demo_verb(app, context);
  shardsafe::cli::add_agent_verb(app, context);
  shardsafe::cli::add_status_verb(app, context);
  shardsafe::cli::add_pitr_verb(app, context);
  shardsafe::cli::add_server_verb(app, context);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11 prints the message (or the help); its own codes (105, 106...) become the
    // documented exit code for bad arguments.
    const int cli11_code = app.exit(error);
    return cli11_code == 0 ? 0 : shardsafe::error_code_info(shardsafe::ErrorCode::kInvalidArgument).exit_code;
  } catch (const shardsafe::Error& error) {
    return report_error(context, error);
  } catch (const std::exception& error) {
    return report_error(context, shardsafe::Error(shardsafe::ErrorCode::kInternal, error.what()));
  }
  return 0;
}

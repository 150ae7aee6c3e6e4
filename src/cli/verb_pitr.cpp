// shardsafe pitr start|stop|status: continuous point-in-time slicing (coordinator/pitr.h).
#include <fmt/format.h>
#include <signal.h>

#include <atomic>

#include "cli/backup_options.h"
#include "cli/pitr_view.h"
#include "common/error.h"
#include "common/numbers.h"
#include "oplog/time_point.h"

namespace shardsafe::cli {
namespace {

// Set by SIGTERM/SIGINT: `pitr start` then cuts its final slice and exits 0.
std::atomic<bool> stop_signal{false};

void on_stop_signal(int) { stop_signal = true; }

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  action.sa_flags = SA_RESTART;  // the slice under way carries on: its calls must not fail with EINTR
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

std::chrono::seconds duration_flag(const std::string& flag, const std::string& text) {
  const auto seconds = parse_duration_seconds(text);
  if (!seconds || *seconds == 0 || *seconds > 7 * 86400) {
    throw Error(ErrorCode::kInvalidArgument, flag + " takes a duration of 1s to 7d such as 30s, 10m or 1h, got \"" + text + "\"");
  }
  return std::chrono::seconds(*seconds);
}

struct StartFlags {
  BackupFlags backup;
  std::string span = "10m";
};

void start(const StartFlags& flags, const Context& context) {
  coordinator::PitrRequest request;
  request.span = duration_flag("--span", flags.span);
  request.backup = backup_request(flags.backup, context);
  auto storage = context.open_storage();
  install_stop_handlers();
  const std::uint64_t slices = coordinator::run_pitr(request, *storage, stop_signal);
  context.print({{"slices", slices}}, [&] { fmt::print("pitr stopped after {} slices\n", slices); });
}

void stop(const std::string& timeout, const Context& context) {
  auto storage = context.open_storage();
  const auto state = coordinator::stop_pitr(*storage, duration_flag("--timeout", timeout));
  context.print({{"stopped", true}, {"last_backup", state.last_backup}, {"last_slice_end", state.last_slice_end.to_string()},
                 {"last_error", state.last_error}},
                [&] {
                  fmt::print("pitr stopped; its last slice \"{}\" ends at {}{}\n", state.last_backup,
                             oplog::describe_time_point(state.last_slice_end),
                             state.last_error.empty() ? "" : "\n  last error: " + state.last_error);
                });
}

void status(const Context& context) {
  auto storage = context.open_storage();
  const auto status = coordinator::pitr_status(*storage);
  context.print(pitr_status_json(status), [&] { print_pitr_status(status); });
}

}  // namespace

nlohmann::json pitr_status_json(const coordinator::PitrStatus& status) {
  if (!status.state) return {{"running", false}};
  const auto& state = *status.state;
  nlohmann::json out = {{"running", status.running},   {"state", state.state},           {"pid", state.pid},
                        {"host", state.host},         {"deployment", state.deployment}, {"span_s", state.span_s},
                        {"started_at", state.started_at}, {"heartbeat_ms", state.heartbeat_ms},
                        {"last_backup", state.last_backup}, {"last_slice_end", state.last_slice_end.to_string()},
                        {"slices", state.slices},     {"last_error", state.last_error}};
  out["lag_s"] = status.lag_s ? nlohmann::json(*status.lag_s) : nlohmann::json(nullptr);
  return out;
}

void print_pitr_status(const coordinator::PitrStatus& status) {
  if (!status.state) {
    fmt::print("pitr: never started on this storage\n");
    return;
  }
  const auto& state = *status.state;
  const std::string lag = status.lag_s ? fmt::format("{} s behind", *status.lag_s) : "no slice yet";
  fmt::print("pitr: {} (pid {} on {}, every {} s since {}), {} slices, {}{}\n",
             status.running ? "running" : (state.state == "running" ? "dead" : "stopped"), state.pid, state.host, state.span_s,
             state.started_at, state.slices, lag, state.last_backup.empty() ? "" : ", last slice \"" + state.last_backup + "\"");
  if (!state.last_error.empty()) fmt::print("  last tick failed: {}\n", state.last_error);
}

void add_pitr_verb(CLI::App& app, Context& context) {
  auto* pitr = app.add_subcommand("pitr", "continuous point-in-time slicing: an incremental backup every --span");
  pitr->require_subcommand(1);

  auto start_flags = std::make_shared<StartFlags>();
  auto* start_verb = pitr->add_subcommand("start", "slice the deployment's oplog every --span, in the foreground, until "
                                                   "`pitr stop` or SIGTERM (then a final slice)");
  start_verb->add_option("--span", start_flags->span, "time between slices: 30s, 10m (default), 1h");
  add_backup_options(*start_verb, start_flags->backup, context);
  start_verb->callback([start_flags, &context] { start(*start_flags, context); });

  auto timeout = std::make_shared<std::string>("10m");
  auto* stop_verb = pitr->add_subcommand("stop", "ask the running `pitr start` to cut a final slice and exit, and wait for it");
  stop_verb->add_option("--timeout", *timeout, "how long to wait for it to stop (default 10m)");
  add_storage_options(*stop_verb, context);
  stop_verb->callback([timeout, &context] { stop(*timeout, context); });

  auto* status_verb = pitr->add_subcommand("status", "whether `pitr start` runs, and how far its newest slice is behind now");
  add_storage_options(*status_verb, context);
  status_verb->callback([&context] { status(context); });
}

}  // namespace shardsafe::cli

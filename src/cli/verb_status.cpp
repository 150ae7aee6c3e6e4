// shardsafe status: operations under way (and the last ones to end), per replica set.
#include <fmt/format.h>

#include "catalog/operations.h"
#include "cli/context.h"
#include "common/clock.h"
#include "cli/pitr_view.h"
#include "cli/progress_view.h"

namespace shardsafe::cli {
namespace {

struct StatusFlags {
  int last = 5;  // finished operations shown besides those running
};

std::string effective_state(const catalog::OperationRecord& record) { return catalog::operation_state(record, unix_ms()); }

nlohmann::json to_json(const catalog::OperationRecord& record) {
  nlohmann::json sets = nlohmann::json::array();
  for (const auto& set : record.sets) {
    sets.push_back({{"replica_set", set.replica_set}, {"runs_on", set.runs_on}, {"job", set.job}, {"state", set.state},
                    {"phase", set.phase}, {"bytes", set.bytes}, {"documents", set.documents}, {"error", set.error}});
  }
  return {{"id", record.id},         {"kind", record.kind},   {"backup_id", record.backup_id},
          {"state", effective_state(record)}, {"phase", record.phase}, {"started_at", record.started_at},
          {"updated_at", record.updated_at}, {"sets", sets}, {"error", record.error}};
}

void print_record(const catalog::OperationRecord& record) {
  fmt::print("{} {} ({}), backup {}, started {}, updated {}{}\n", record.kind, effective_state(record), record.phase,
             record.backup_id, record.started_at, record.updated_at, record.error.empty() ? "" : "\n  error: " + record.error);
  for (const auto& set : record.sets) {
    fmt::print("  {:<28} {:<10} {:<12} {:>10} {:>10} docs  {}{}\n", set.replica_set, set.state, set.phase, human_bytes(set.bytes),
               set.documents, set.runs_on, set.error.empty() ? "" : "  error: " + set.error);
  }
}

void run(const StatusFlags& flags, const Context& context) {
  auto storage = context.open_storage();
  std::vector<catalog::OperationRecord> shown;
  int finished = 0;
  for (auto& record : catalog::list_operations(*storage)) {
    const bool running = effective_state(record) == "running";
    if (running || finished++ < flags.last) shown.push_back(std::move(record));
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& record : shown) out.push_back(to_json(record));
  const auto pitr = coordinator::pitr_status(*storage);
  context.print({{"operations", out}, {"pitr", pitr_status_json(pitr)}}, [&] {
    if (pitr.state) print_pitr_status(pitr);
    if (shown.empty()) fmt::print("no operations recorded in {}\n", storage->describe());
    for (const auto& record : shown) print_record(record);
  });
}

}  // namespace

void add_status_verb(CLI::App& app, Context& context) {
  auto flags = std::make_shared<StatusFlags>();
  auto* verb = app.add_subcommand("status", "show backups and restores under way, with per-replica-set progress");
  verb->add_option("--last", flags->last, "also show this many finished operations")->check(CLI::Range(0, 1000));
  add_storage_options(*verb, context);
  verb->callback([flags, &context] { run(*flags, context); });
}

}  // namespace shardsafe::cli

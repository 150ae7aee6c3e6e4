// shardsafe backup: a full (or, with --incremental, an oplog) backup of a replica set or,
// through a mongos, a sharded cluster.
#include <spdlog/spdlog.h>

#include "catalog/summary_json.h"
#include "cli/backup_options.h"
#include "cli/progress_view.h"
#include "common/numbers.h"
#include "coordinator/backup.h"
#include "oplog/time_point.h"

namespace shardsafe::cli {
namespace {

void run(const BackupFlags& flags, bool incremental, const Context& context) {
  auto storage = context.open_storage();
  coordinator::BackupRequest request = backup_request(flags, context);
  request.incremental = incremental;
  Progress progress;
  catalog::Manifest manifest;
  {
    ProgressView view(progress, !context.show_progress());
    manifest = coordinator::run_backup(request, *storage, progress);
  }
  context.print(catalog::backup_result_json(manifest), [&] {
    if (manifest.kind == "incremental") {
      std::uint64_t entries = 0;
      for (const auto& set : manifest.replica_sets) entries += set.oplog_entries;
      fmt::print("incremental backup {} complete: {} oplog entries after backup {}, {} stored, up to {}\n", manifest.id, entries,
                 manifest.base, human_bytes(manifest.total_stored_bytes()), oplog::describe_time_point(manifest.consistency_point));
      return;
    }
    fmt::print("backup {} complete: {} documents, {} raw, {} stored, consistent at {}\n", manifest.id,
               manifest.total_documents(), human_bytes(manifest.total_raw_bytes()),
               human_bytes(manifest.total_stored_bytes()), manifest.consistency_point.to_string());
  });
}

}  // namespace

void add_backup_verb(CLI::App& app, Context& context) {
  auto flags = std::make_shared<BackupFlags>();
  auto* verb = app.add_subcommand("backup", "take a full backup of a replica set or a sharded cluster");
  auto incremental = std::make_shared<bool>(false);
  verb->add_flag("--incremental", *incremental,
                 "back up only the oplog since the newest backup of this deployment (full or incremental), on every "
                 "replica set up to one cluster time: restore to any point with restore --to-time");
  add_backup_options(*verb, *flags, context);
  verb->callback([flags, incremental, &context] { run(*flags, *incremental, context); });
}

}  // namespace shardsafe::cli

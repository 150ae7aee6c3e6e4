// shardsafe restore: a backup into a replica set or, through a mongos, a whole sharded cluster;
// rolled back on failure.
#include <fmt/format.h>

#include "agent/jobs.h"
#include "cli/context.h"
#include "cli/progress_view.h"
#include "common/error.h"
#include "coordinator/restore.h"
#include "dump/namespace_filter.h"
#include "oplog/time_point.h"

namespace shardsafe::cli {
namespace {

struct RestoreFlags {
  std::string backup_id;
  std::string to_time;
  std::string uri;
  std::string replica_set;
  int parallel = 4;
  int insertion_workers = 2;
  bool drop = false;
  bool keep_previous = false;
  bool no_oplog_replay = false;
  bool new_uuids = false;
  std::vector<std::string> ns_include, ns_exclude, ns_from, ns_to;
  std::vector<std::string> shard_map;
  bool verify_first = false;
  int lock_lease_seconds = 60;
};

coordinator::ShardMap parse_shard_map(const std::vector<std::string>& entries) {
  coordinator::ShardMap map;
  for (const auto& entry : entries) {
    const auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
      throw Error(ErrorCode::kInvalidArgument, "--shard-map takes <backup shard>=<target shard>, got \"" + entry + "\"");
    }
    map[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  return map;
}

void run(const RestoreFlags& flags, const Context& context) {
  auto storage = context.open_storage();
  coordinator::RestoreRequest request;
  request.backup_id = flags.backup_id;
  if (!flags.to_time.empty()) request.to_time = oplog::parse_time_point(flags.to_time);
  if (flags.backup_id.empty() && !request.to_time) throw Error(ErrorCode::kInvalidArgument, "restore needs --backup ID or --to-time T");
  if (request.to_time && flags.no_oplog_replay) throw Error(ErrorCode::kInvalidArgument, "--to-time replays the oplog: drop --no-oplog-replay");
  request.target_uri = flags.uri;
  request.replica_set = flags.replica_set;
  request.options.parallel_collections = flags.parallel;
  request.options.insertion_workers = flags.insertion_workers;
  request.options.drop = flags.drop;
  request.options.keep_previous = flags.keep_previous;
  request.options.replay_oplog = !flags.no_oplog_replay;
  request.options.preserve_uuids = !flags.new_uuids;
  request.options.key = context.encryption_key();
  if (!flags.ns_from.empty() && !flags.no_oplog_replay) {
    // The oplog names the source namespaces; replaying it under new names is not supported,
    // and skipping it silently would restore renamed collections at another point in time.
    throw Error(ErrorCode::kInvalidArgument,
                "--ns-from/--ns-to rename collections, but the backup's oplog names the old ones: "
                "add --no-oplog-replay to restore the renamed collections as dumped (not at the consistency point)");
  }
  // Checked here, so a bad pattern is refused before anything runs.
  static_cast<void>(dump::NamespaceFilter(flags.ns_include, flags.ns_exclude, flags.ns_from, flags.ns_to));
  request.namespaces = {flags.ns_include, flags.ns_exclude, flags.ns_from, flags.ns_to};
  request.shard_map = parse_shard_map(flags.shard_map);
  request.verify_first = flags.verify_first;
  request.lock_lease = std::chrono::seconds(flags.lock_lease_seconds);
  request.agents = context.agent_settings();
  if (request.agents.enabled()) request.storage_location = context.storage_location();
  Progress progress;
  dump::RestoreSummary summary;
  {
    ProgressView view(progress, !context.show_progress());
    summary = coordinator::run_restore(request, *storage, progress);
  }
  nlohmann::json out = agent::restore_summary_json(summary);
  out["backup_id"] = flags.backup_id;
  out["to_time"] = flags.to_time;
  context.print(out,
                [&] {
                  fmt::print("restored {}: {} collections, {} documents, {} indexes, {} oplog entries replayed\n",
                             flags.to_time.empty() ? "backup " + flags.backup_id : "to " + oplog::describe_time_point(*request.to_time),
                             summary.collections, summary.documents, summary.indexes,
                             summary.oplog_applied);
                  fmt::print("{} of {} collections kept their UUID{}\n", summary.uuids_preserved, summary.collections,
                             summary.users_and_roles ? "; users and roles merged" : "");
                  for (const auto& kept : summary.holdings_kept) fmt::print("previous data kept as \"{}\"\n", kept);
                });
}

}  // namespace

void add_restore_verb(CLI::App& app, Context& context) {
  auto flags = std::make_shared<RestoreFlags>();
  auto* verb = app.add_subcommand("restore", "restore a backup into a replica set, or a sharded backup into a cluster");
  verb->add_option("--backup", flags->backup_id, "backup id (see `shardsafe list`); with --to-time, the full backup to start from");
  verb->add_option("--to-time", flags->to_time,
                   "point-in-time restore: 2026-12-04T18:30:00Z (UTC; every write before it), <seconds>.<increment> or "
                   "Timestamp(s, i) (inclusive); the newest full backup before it, rolled forward through incremental backups");
  verb->add_option("--uri", flags->uri, "MongoDB URI of the target replica set, or of a mongos for a sharded backup")->required();
  verb->add_option("--replica-set", flags->replica_set, "of a sharded backup: the shard (or config) to restore");
  verb->add_option("--parallel", flags->parallel, "collections restored at once")->check(CLI::Range(1, 64));
  verb->add_option("--insertion-workers", flags->insertion_workers, "insert workers per collection")->check(CLI::Range(1, 64));
  verb->add_flag("--drop", flags->drop, "replace namespaces that already hold data (kept until the restore succeeds)");
  verb->add_flag("--keep-previous", flags->keep_previous, "keep the replaced data under its holding name");
  verb->add_flag("--no-oplog-replay", flags->no_oplog_replay, "restore the dump only, without its oplog");
  verb->add_flag("--new-uuids", flags->new_uuids,
                 "create collections with new UUIDs (by default they keep their dumped UUIDs when the target "
                 "holds none of them)");
  verb->add_option("--ns-include", flags->ns_include, "restore only matching namespaces (db.coll, * wildcards)");
  verb->add_option("--ns-exclude", flags->ns_exclude, "skip matching namespaces");
  verb->add_option("--ns-from", flags->ns_from, "rename: source pattern (with $var$ captures)");
  verb->add_option("--ns-to", flags->ns_to, "rename: target pattern");
  verb->add_option("--shard-map", flags->shard_map, "backup shard -> target shard when the names differ: shard0=sh-a,shard1=sh-b")
      ->delimiter(',');
  verb->add_flag("--verify-first", flags->verify_first,
                 "read every object and check its checksum before changing anything (objects are always checked as they "
                 "are restored; a mismatch rolls the restore back)");
  verb->add_option("--lock-lease", flags->lock_lease_seconds,
                   "seconds after which the lock of a run that died may be taken over (renewed while running)")
      ->check(CLI::Range(5, 3600));
  add_storage_options(*verb, context);
  add_key_options(*verb, context);
  add_agent_options(*verb, context);
  verb->callback([flags, &context] { run(*flags, context); });
}

}  // namespace shardsafe::cli

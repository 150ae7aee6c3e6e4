// shardsafe list, describe, verify, delete: reading and pruning the catalog.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "catalog/catalog.h"
#include "catalog/manifest_json.h"
#include "catalog/operations.h"
#include "catalog/retention.h"
#include "catalog/summary_json.h"
#include "catalog/timeline.h"
#include "cli/context.h"
#include "cli/progress_view.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/numbers.h"
#include "coordinator/point_in_time.h"
#include "oplog/time_point.h"

namespace shardsafe::cli {
namespace {

using catalog::summary_json;
using catalog::timeline_json;

void print_timeline(const catalog::Timeline& timeline) {
  if (timeline.windows.empty()) return;
  fmt::print("\npoints in time that can be restored (restore --to-time):\n");
  for (const auto& window : timeline.windows) fmt::print("  {}\n", coordinator::describe_window(window));
  for (const auto& gap : timeline.gaps) {
    fmt::print("  GAP of {}: nothing restorable strictly between {} and {}: {}\n", gap.deployment, oplog::describe_time_point(gap.from),
               oplog::describe_time_point(gap.to), gap.reason);
  }
}

void list(const Context& context) {
  auto storage = context.open_storage();
  catalog::Catalog catalog(*storage);
  const auto backups = catalog.list();
  const auto incomplete = catalog.list_incomplete();
  const auto timeline = catalog::build_timeline(backups);
  nlohmann::json out = {{"backups", nlohmann::json::array()}, {"incomplete", incomplete}, {"timeline", timeline_json(timeline)}};
  for (const auto& backup : backups) out["backups"].push_back(summary_json(backup));
  context.print(out, [&] {
    fmt::print("{:<24} {:<8} {:<9} {:>10} {:>10} {:>12}  {}\n", "ID", "KIND", "TOPOLOGY", "STORED", "DOCUMENTS",
               "CONSISTENT", "REPLICA SETS");
    for (const auto& backup : backups) {
      if (!backup.problem.empty()) {
        fmt::print("{:<24} unreadable: {}\n", backup.id, backup.problem);
        continue;
      }
      std::string sets;
      for (const auto& set : backup.replica_sets) sets += (sets.empty() ? "" : ",") + set;
      fmt::print("{:<24} {:<8} {:<9} {:>10} {:>10} {:>12}  {}\n", backup.id, backup.kind, backup.topology,
                 human_bytes(backup.stored_bytes), backup.documents, backup.consistency_point.to_string(), sets);
    }
    for (const auto& id : incomplete) fmt::print("{:<24} incomplete (no manifest): remove with `shardsafe delete --incomplete`\n", id);
    print_timeline(timeline);
  });
}

void describe(const Context& context, const std::string& id) {
  auto storage = context.open_storage();
  const catalog::Manifest manifest = catalog::Catalog(*storage).load(id);
  const nlohmann::json out = nlohmann::json::parse(catalog::manifest_to_json(manifest));
  context.print(out, [&] {
    fmt::print("backup {} ({}, {}), started {}, finished {}\n", manifest.id, manifest.kind, manifest.topology,
               manifest.started_at, manifest.finished_at);
    fmt::print("consistent at {}; {} raw, {} stored ({}{})\n", manifest.consistency_point.to_string(),
               human_bytes(manifest.total_raw_bytes()), human_bytes(manifest.total_stored_bytes()),
               storage::compression_name(manifest.compression), manifest.encryption_key_id.empty() ? "" : ", encrypted");
    for (const auto& set : manifest.replica_sets) {
      fmt::print("\nreplica set {}{} from {} (MongoDB {}), oplog {} .. {} ({} entries)\n", set.name,
                 set.shard.empty() ? "" : " (shard " + set.shard + ")", set.source_host, set.server_version,
                 set.start_optime.to_string(), set.end_optime.to_string(), set.oplog_entries);
      for (const auto& collection : set.collections) {
        fmt::print("  {:<40} {:<10} {:>10} docs {:>10}\n", collection.db + "." + collection.name, collection.type,
                   collection.documents, human_bytes(collection.bytes));
      }
    }
  });
}

void verify(const Context& context, const std::string& id) {
  auto storage = context.open_storage();
  catalog::Catalog catalog(*storage);
  const auto report = catalog.verify(id);
  const auto chain = coordinator::chain_problems(catalog, catalog.load(id));
  nlohmann::json bad = nlohmann::json::array();
  for (const auto& object : report.bad_objects) bad.push_back({{"key", object.key}, {"problem", object.problem}});
  context.print({{"id", report.id}, {"ok", report.ok() && chain.empty()}, {"objects_checked", report.objects_checked},
                 {"bytes_checked", report.bytes_checked}, {"bad_objects", bad}, {"chain_problems", chain}},
                [&] {
                  for (const auto& object : report.bad_objects) fmt::print("BAD {}: {}\n", object.key, object.problem);
                  for (const auto& problem : chain) fmt::print("CHAIN {}\n", problem);
                  fmt::print("backup {}: {} objects, {} checked: {}\n", report.id, report.objects_checked,
                             human_bytes(report.bytes_checked), report.ok() ? "all match the manifest" : "DAMAGED");
                });
  if (!chain.empty()) throw Error(ErrorCode::kChainGap, "backup \"" + id + "\": " + chain.front());
  if (!report.ok()) {
    throw Error(ErrorCode::kChecksumMismatch, fmt::format("backup \"{}\" has {} damaged objects, first \"{}\": {}", id,
                                                          report.bad_objects.size(), report.bad_objects.front().key,
                                                          report.bad_objects.front().problem));
  }
}

void remove(const Context& context, const std::string& id) {
  auto storage = context.open_storage();
  catalog::Catalog(*storage).remove(id);
  context.print({{"deleted", id}}, [&] { fmt::print("deleted backup {}\n", id); });
}

// Slices no committed increment lists, unless an increment is running (they may be its own).
std::vector<std::string> remove_orphan_slices(storage::Storage& storage, catalog::Catalog& catalog,
                                              const std::vector<catalog::OperationRecord>& records) {
  const bool increment_running = std::any_of(records.begin(), records.end(), [](const auto& record) {
    return record.kind == "incremental" && catalog::operation_state(record, unix_ms()) == "running";
  });
  if (increment_running) return {};
  const auto orphans = catalog.list_orphan_slices();
  storage.remove(orphans);
  return orphans;
}

// How long an upload (a temporary file on file://) must have gone unwritten before `delete
// --incomplete` takes it for a dead writer's. A live writer adds to it as its data arrives,
// and a live backup's or increment's uploads are spared at any age (below); an hour is still
// far beyond any pause of a writer alive, and an hour's wait to reclaim a dead one's space
// costs an operator nothing.
constexpr std::chrono::hours kAbandonedUploadAge{1};

// Where live operations write: a running backup's prefix, and all of "oplog/" while an
// increment runs (its slices lie outside its prefix).
std::vector<std::string> live_prefixes(const std::vector<catalog::OperationRecord>& records) {
  const auto now = unix_ms();
  std::vector<std::string> out;
  for (const auto& record : records) {
    if (catalog::operation_state(record, now) != "running") continue;
    if (record.kind != "backup" && record.kind != "incremental") continue;
    out.push_back(catalog::Catalog::backup_prefix(record.backup_id));
    if (record.kind == "incremental") out.push_back("oplog/");
  }
  return out;
}

// The uploads of writers that died mid-write (killed, the machine down), never a live
// operation's. Returns how many went.
std::size_t remove_abandoned_uploads(storage::Storage& storage, const std::vector<catalog::OperationRecord>& records) {
  const auto live = live_prefixes(records);
  auto uploads = storage.list_abandoned_uploads(kAbandonedUploadAge);
  std::erase_if(uploads, [&](const storage::AbandonedUpload& upload) {
    return std::any_of(live.begin(), live.end(), [&](const std::string& prefix) { return upload.key.starts_with(prefix); });
  });
  storage.remove_abandoned_uploads(uploads);
  return uploads.size();
}

// The leftovers of failed or interrupted backups, but not those a live coordinator is still
// writing (its operation record says so): the storage may serve several clusters.
void remove_incomplete(const Context& context) {
  auto storage = context.open_storage();
  catalog::Catalog catalog(*storage);
  const auto records = catalog::list_operations(*storage);
  std::vector<std::string> deleted, kept;
  for (const auto& id : catalog.list_incomplete()) {
    if (catalog::backup_in_progress(records, id, unix_ms())) {
      kept.push_back(id);
      continue;
    }
    catalog.remove(id);
    deleted.push_back(id);
  }
  const auto slices = remove_orphan_slices(*storage, catalog, records);
  const auto uploads = remove_abandoned_uploads(*storage, records);
  context.print({{"deleted", deleted}, {"in_progress", kept}, {"deleted_slices", slices}, {"deleted_uploads", uploads}}, [&] {
    for (const auto& id : deleted) fmt::print("deleted incomplete backup {}\n", id);
    for (const auto& id : kept) fmt::print("kept {}: a running backup is still writing it\n", id);
    for (const auto& key : slices) fmt::print("deleted slice {}: no incremental backup lists it\n", key);
    if (uploads > 0) fmt::print("deleted {} abandoned uploads: writes whose writer died, untouched for over {} h\n", uploads, kAbandonedUploadAge.count());
    if (deleted.empty() && kept.empty() && slices.empty() && uploads == 0) fmt::print("no incomplete backups\n");
  });
}

struct RetentionFlags {
  std::string older_than;
  std::size_t keep_last = 0;
  bool dry_run = false;
};

catalog::RetentionPolicy retention_policy(const RetentionFlags& flags) {
  catalog::RetentionPolicy policy;
  if (flags.keep_last > 0) policy.keep_last = flags.keep_last;
  if (!flags.older_than.empty()) {
    const auto seconds = parse_duration_seconds(flags.older_than);
    if (!seconds) throw Error(ErrorCode::kInvalidArgument, "--older-than takes a duration such as 30d, 12h or 2w, got \"" + flags.older_than + "\"");
    policy.keep_for = std::chrono::seconds(*seconds);
  }
  return policy;
}

// Retention: delete what the policy does not keep, never a backup a kept point in time needs.
void remove_by_policy(const Context& context, const RetentionFlags& flags) {
  auto storage = context.open_storage();
  catalog::Catalog catalog(*storage);
  const auto plan = catalog::plan_retention(catalog, retention_policy(flags), std::chrono::system_clock::now());
  if (!flags.dry_run) catalog::apply_retention(catalog, plan);
  context.print({{"dry_run", flags.dry_run}, {"deleted", plan.remove}, {"kept", plan.keep}}, [&] {
    for (const auto& id : plan.remove) fmt::print("{} {}\n", flags.dry_run ? "would delete" : "deleted", id);
    fmt::print("{} backups kept\n", plan.keep.size());
  });
}

}  // namespace

void add_catalog_verbs(CLI::App& app, Context& context) {
  auto* list_verb = app.add_subcommand("list", "list the backups in a storage");
  add_storage_options(*list_verb, context);
  list_verb->callback([&context] { list(context); });

  auto id = std::make_shared<std::string>();
  auto* describe_verb = app.add_subcommand("describe", "show a backup's manifest: sets, optimes, collections");
  describe_verb->add_option("--backup", *id, "backup id")->required();
  add_storage_options(*describe_verb, context);
  describe_verb->callback([&context, id] { describe(context, *id); });

  auto* verify_verb = app.add_subcommand("verify", "re-read every object of a backup and check it against the manifest");
  verify_verb->add_option("--backup", *id, "backup id")->required();
  add_storage_options(*verify_verb, context);
  verify_verb->callback([&context, id] { verify(context, *id); });

  auto incomplete = std::make_shared<bool>(false);
  auto retention = std::make_shared<RetentionFlags>();
  auto* delete_verb = app.add_subcommand("delete", "delete a backup (manifest first, so it is never half-listed), or by retention policy");
  auto* backup_option = delete_verb->add_option("--backup", *id, "backup id");
  auto* incomplete_flag =
      delete_verb->add_flag("--incomplete", *incomplete, "delete the leftovers of failed or interrupted backups (not those still running) and writes abandoned for over an hour")
          ->excludes(backup_option);
  delete_verb->add_option("--older-than", retention->older_than,
                                             "retention: keep the points in time of this long (30d, 12h, 2w), delete older backups")
                         ->excludes(backup_option)
                         ->excludes(incomplete_flag);
  delete_verb->add_option("--keep-last", retention->keep_last, "retention: keep the N newest full backups (and the increments after them)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
      ->excludes(backup_option)
      ->excludes(incomplete_flag);
  delete_verb->add_flag("--dry-run", retention->dry_run, "with a retention option: show what would be deleted, delete nothing");
  add_storage_options(*delete_verb, context);
  delete_verb->callback([&context, id, incomplete, retention] {
    if (*incomplete) return remove_incomplete(context);
    if (!retention->older_than.empty() || retention->keep_last > 0) return remove_by_policy(context, *retention);
    if (retention->dry_run) throw Error(ErrorCode::kInvalidArgument, "--dry-run goes with --older-than or --keep-last");
    if (id->empty()) throw Error(ErrorCode::kInvalidArgument, "delete needs --backup ID, --incomplete, or --older-than/--keep-last");
    remove(context, *id);
  });
}

}  // namespace shardsafe::cli

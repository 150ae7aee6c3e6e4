#include "coordinator/point_in_time.h"

#include <algorithm>
#include <map>

#include "common/error.h"
#include "oplog/slice.h"
#include "oplog/time_point.h"

namespace shardsafe::coordinator {
namespace {

using mongo::Timestamp;

std::string describe_windows(const catalog::Timeline& timeline) {
  if (timeline.windows.empty()) return "the storage holds no backup";
  std::string out = "restorable windows: ";
  for (std::size_t i = 0; i < timeline.windows.size(); ++i) out += (i ? "; " : "") + describe_window(timeline.windows[i]);
  return out;
}

const catalog::RestoreWindow& window_holding(const catalog::Timeline& timeline, Timestamp to, const std::string& base_id) {
  std::vector<const catalog::RestoreWindow*> holding;
  for (const auto& window : timeline.windows) {
    const bool has_base = base_id.empty() || std::count(window.full_backups.begin(), window.full_backups.end(), base_id) > 0;
    if (has_base && window.from <= to && to <= window.to) holding.push_back(&window);
  }
  if (holding.size() == 1) return *holding.front();
  const std::string when = oplog::describe_time_point(to);
  if (holding.size() > 1) {
    throw Error(ErrorCode::kInvalidArgument, when + " lies in windows of several deployments (" + holding[0]->deployment + " and " +
                                                 holding[1]->deployment + "): name the full backup to start from with --backup");
  }
  for (const auto& gap : timeline.gaps) {
    if (gap.from < to && to < gap.to) {
      throw Error(ErrorCode::kChainGap, "cannot restore to " + when + ": it falls in a gap of the oplog chain of " + gap.deployment +
                                            " between " + oplog::describe_time_point(gap.from) + " and " +
                                            oplog::describe_time_point(gap.to) + " (" + gap.reason + "); " + describe_windows(timeline));
    }
  }
  throw Error(ErrorCode::kNotFound, "no backup can restore to " + when + (base_id.empty() ? "" : " from backup \"" + base_id + "\"") +
                                        ": " + describe_windows(timeline));
}

// The newest full backup of `window` at or before `to`.
std::string base_of(const catalog::RestoreWindow& window, const std::vector<catalog::BackupSummary>& backups,
                    Timestamp to, const std::string& base_id) {
  if (!base_id.empty()) return base_id;
  std::string best;
  Timestamp best_point;
  for (const auto& backup : backups) {
    const bool in_window = std::count(window.full_backups.begin(), window.full_backups.end(), backup.id) > 0;
    if (in_window && backup.consistency_point <= to && (best.empty() || backup.consistency_point >= best_point)) {
      best = backup.id;
      best_point = backup.consistency_point;
    }
  }
  return best;
}

void check_read_before_rollover(const catalog::ReplicaSetBackup& slice, const std::string& backup_id) {
  if (slice.source_oldest_optime > slice.start_optime) {
    throw Error(ErrorCode::kChainGap, "the slice \"" + slice.oplog.key + "\" of incremental backup \"" + backup_id +
                                          "\" was read after the oplog of replica set \"" + slice.name + "\" rolled over (its oldest entry was " +
                                          slice.source_oldest_optime.to_string() + ", after the slice's start " +
                                          slice.start_optime.to_string() + "): entries are missing");
  }
}

// Per replica set, the slices of the increments that may carry `base` forward to `to`.
std::map<std::string, std::vector<std::pair<oplog::OplogSlice, catalog::LaterSlice>>> candidate_slices(
    catalog::Catalog& catalog, const std::vector<catalog::BackupSummary>& backups, const std::string& deployment, Timestamp from,
    Timestamp to) {
  std::map<std::string, std::vector<std::pair<oplog::OplogSlice, catalog::LaterSlice>>> out;
  for (const auto& backup : backups) {
    if (backup.kind != "incremental" || !backup.problem.empty() || catalog::deployment_of(backup) != deployment) continue;
    if (backup.consistency_point <= from || backup.chain_start >= to) continue;
    for (const auto& set : catalog.load(backup.id).replica_sets) {
      check_read_before_rollover(set, backup.id);
      const oplog::OplogSlice slice{set.name, set.start_optime, set.end_optime, set.oplog_entries,
                                    set.oplog.parts.empty() ? "" : set.oplog.parts.front().sha256, set.oplog.key};
      out[set.name].push_back({slice, {set.oplog, set.oplog_entries, set.oplog_md5}});
    }
  }
  return out;
}

}  // namespace

std::string describe_window(const catalog::RestoreWindow& window) {
  return "[" + oplog::describe_time_point(window.from) + " .. " + oplog::describe_time_point(window.to) + "] from backup \"" +
         window.base_backup + "\" (" + window.deployment + ")";
}

catalog::Manifest plan_point_in_time(catalog::Catalog& catalog, Timestamp to, const std::string& base_id) {
  const auto backups = catalog.list();
  const auto timeline = catalog::build_timeline(backups);
  const auto& window = window_holding(timeline, to, base_id);
  catalog::Manifest base = catalog.load(base_of(window, backups, to, base_id));
  if (base.kind != "full") throw Error(ErrorCode::kInvalidArgument, "backup \"" + base.id + "\" is incremental: name a full backup");
  if (base.consistency_point > to) {
    throw Error(ErrorCode::kInvalidArgument, "backup \"" + base.id + "\" is consistent at " + oplog::describe_time_point(base.consistency_point) +
                                                 ", after " + oplog::describe_time_point(to) + ": it cannot restore to an earlier time");
  }
  auto slices = candidate_slices(catalog, backups, window.deployment, base.consistency_point, to);
  for (auto& set : base.replica_sets) {
    if (set.end_optime >= to) continue;
    std::vector<oplog::OplogSlice> chain;
    std::map<std::string, catalog::LaterSlice> by_key;
    for (const auto& [slice, later] : slices[set.name]) {
      chain.push_back(slice);
      by_key[slice.key] = later;
    }
    for (const auto& needed : oplog::validate_chain(chain, set.end_optime, to)) set.later_oplog.push_back(by_key.at(needed.key));
  }
  base.consistency_point = to;
  return base;
}

std::vector<std::string> chain_problems(catalog::Catalog& catalog, const catalog::Manifest& increment) {
  std::vector<std::string> problems;
  if (increment.kind != "incremental") return problems;
  for (const auto& set : increment.replica_sets) {
    try {
      check_read_before_rollover(set, increment.id);
    } catch (const Error& error) {
      problems.push_back(std::string("gap: ") + error.what());
    }
  }
  std::optional<catalog::Manifest> base;
  try {
    base = catalog.load(increment.base);
  } catch (const Error& error) {
    if (error.retryable() || error.code() != ErrorCode::kNotFound) throw;
  }
  if (base) {
    for (const auto& set : increment.replica_sets) {
      const auto in_base = std::find_if(base->replica_sets.begin(), base->replica_sets.end(),
                                        [&](const catalog::ReplicaSetBackup& b) { return b.name == set.name; });
      if (in_base == base->replica_sets.end() || in_base->end_optime != set.start_optime) {
        problems.push_back("gap: slice \"" + set.oplog.key + "\" starts at " + set.start_optime.to_string() + ", where base \"" +
                           base->id + "\" does not end on replica set \"" + set.name + "\"");
      }
    }
  }
  // Retention may remove the base of an increment that a kept full backup still needs: what
  // matters is that the increment extends a window.
  const auto timeline = catalog::build_timeline(catalog);
  const bool in_window = std::any_of(timeline.windows.begin(), timeline.windows.end(), [&](const catalog::RestoreWindow& window) {
    return window.from < increment.consistency_point && increment.consistency_point <= window.to;
  });
  if (!in_window) {
    problems.push_back("no full backup reaches this incremental backup through a continuous chain (its base \"" + increment.base +
                       "\" " + (base ? "is not continued by it" : "is gone") + "): it restores nothing");
  }
  return problems;
}

}  // namespace shardsafe::coordinator

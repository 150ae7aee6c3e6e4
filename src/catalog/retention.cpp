#include "catalog/retention.h"

#include <algorithm>
#include <map>
#include <set>

#include "catalog/timeline.h"
#include "common/error.h"

namespace shardsafe::catalog {
namespace {

using mongo::Timestamp;

// The full backups of one deployment that the policy keeps; `fulls` sorted oldest first.
std::set<std::string> kept_fulls(const std::vector<const BackupSummary*>& fulls, const RetentionPolicy& policy,
                                 std::chrono::system_clock::time_point now) {
  std::set<std::string> kept;
  if (fulls.empty()) return kept;
  kept.insert(fulls.back()->id);
  if (policy.keep_last) {
    const std::size_t first = fulls.size() > *policy.keep_last ? fulls.size() - *policy.keep_last : 0;
    for (std::size_t i = first; i < fulls.size(); ++i) kept.insert(fulls[i]->id);
  }
  if (policy.keep_for) {
    // Backup times are their consistency points: cluster time, which follows the wall clock.
    const auto cutoff = std::chrono::duration_cast<std::chrono::seconds>((now - *policy.keep_for).time_since_epoch()).count();
    const BackupSummary* base_before_cutoff = nullptr;
    for (const auto* full : fulls) {
      if (static_cast<std::int64_t>(full->consistency_point.seconds) >= cutoff) {
        kept.insert(full->id);
      } else {
        base_before_cutoff = full;
      }
    }
    if (base_before_cutoff) kept.insert(base_before_cutoff->id);
  }
  return kept;
}

void plan_deployment(std::vector<const BackupSummary*> backups, const RetentionPolicy& policy,
                     std::chrono::system_clock::time_point now, RetentionPlan& plan) {
  std::sort(backups.begin(), backups.end(),
            [](const BackupSummary* a, const BackupSummary* b) { return a->consistency_point < b->consistency_point; });
  std::vector<const BackupSummary*> fulls;
  for (const auto* backup : backups) {
    if (backup->kind != "incremental") fulls.push_back(backup);
  }
  const auto kept = kept_fulls(fulls, policy, now);
  Timestamp oldest_kept_point;
  for (const auto* full : fulls) {
    if (kept.contains(full->id)) {
      oldest_kept_point = full->consistency_point;
      break;
    }
  }
  for (const auto* backup : backups) {
    const bool keep = backup->kind == "incremental" ? fulls.empty() || backup->consistency_point > oldest_kept_point
                                                    : kept.contains(backup->id);
    (keep ? plan.keep : plan.remove).push_back(backup->id);
  }
}

}  // namespace

RetentionPlan plan_retention(const std::vector<BackupSummary>& backups, const RetentionPolicy& policy,
                             std::chrono::system_clock::time_point now) {
  if (!policy.keep_last && !policy.keep_for) {
    throw Error(ErrorCode::kInvalidArgument, "a retention policy needs --keep-last N or --older-than DURATION (keep_last or keep_days)");
  }
  if (policy.keep_last && *policy.keep_last == 0) {
    throw Error(ErrorCode::kInvalidArgument, "--keep-last must keep at least one full backup");
  }
  std::map<std::string, std::vector<const BackupSummary*>> by_deployment;
  RetentionPlan plan;
  for (const auto& backup : backups) {
    if (backup.problem.empty()) {
      by_deployment[deployment_of(backup)].push_back(&backup);
    } else {
      plan.keep.push_back(backup.id);
    }
  }
  for (const auto& [deployment, members] : by_deployment) plan_deployment(members, policy, now, plan);
  std::sort(plan.remove.begin(), plan.remove.end());  // ids sort by time: oldest first
  std::sort(plan.keep.begin(), plan.keep.end());
  return plan;
}

RetentionPlan plan_retention(Catalog& catalog, const RetentionPolicy& policy, std::chrono::system_clock::time_point now) {
  return plan_retention(catalog.list(), policy, now);
}

void apply_retention(Catalog& catalog, const RetentionPlan& plan) {
  for (const auto& id : plan.remove) catalog.remove(id);
}

}  // namespace shardsafe::catalog

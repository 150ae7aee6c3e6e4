// Retention: which backups to delete so that only what a policy keeps remains, without ever
// breaking a point in time the policy keeps.
//
// Per deployment (catalog/timeline.h), full backups are kept when either rule keeps them:
//   keep_last N   the N newest full backups;
//   keep_for D    every full backup finished within D of now, and the newest one before that
//                 (the base that points in time between the cutoff and the next full backup
//                 are restored from).
// The newest full backup is always kept. An incremental backup is kept when it reaches past
// the oldest kept full backup's consistency point (a kept point in time may replay it);
// the rest go. Unreadable backups are never deleted by retention: they are reported instead.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace shardsafe::catalog {

struct RetentionPolicy {
  std::optional<std::size_t> keep_last;
  std::optional<std::chrono::seconds> keep_for;
};

struct RetentionPlan {
  std::vector<std::string> remove;  // oldest first
  std::vector<std::string> keep;
};

// Error(kInvalidArgument) when the policy names no rule or keep_last is 0.
RetentionPlan plan_retention(const std::vector<BackupSummary>& backups, const RetentionPolicy& policy,
                             std::chrono::system_clock::time_point now);
RetentionPlan plan_retention(Catalog& catalog, const RetentionPolicy& policy, std::chrono::system_clock::time_point now);

// Removes plan.remove in order (each manifest first: a removal cut short leaves an incomplete
// backup, never a listed one with holes).
void apply_retention(Catalog& catalog, const RetentionPlan& plan);

}  // namespace shardsafe::catalog

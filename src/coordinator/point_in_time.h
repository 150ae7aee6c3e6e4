// Point-in-time restore: which full backup to restore, and which slices to roll it forward with.
#pragma once

#include <optional>
#include <string>

#include "catalog/catalog.h"
#include "catalog/timeline.h"
#include "mongo/bson.h"

namespace shardsafe::coordinator {

// The newest full backup at or before `to` in the window that holds `to` (or the full backup
// `base_id`, when given), with every replica set's `later_oplog` set to the slices that carry it
// from its end to `to`, in chain order, and its consistency point set to `to`. Checks:
//   - `to` lies in a window (catalog/timeline.h); otherwise Error(kChainGap) when it falls in a
//     gap of a deployment, Error(kNotFound) outside everything, each naming the windows' bounds;
//     Error(kInvalidArgument) when windows of several deployments hold it and no base is given;
//   - per replica set, the slices start exactly where the previous one ended (oplog/slice.h
//     validate_chain) and each was read while the source oplog still held its start
//     (source_oldest_optime): otherwise Error(kChainGap) naming the set and the range.
// Whether the slices' bytes are intact is checked as they are read (SHA-256, count, MD5).
catalog::Manifest plan_point_in_time(catalog::Catalog& catalog, mongo::Timestamp to, const std::string& base_id = "");

// Every problem of `increment`'s place in its chain: a slice that does not start where its base
// ended, a slice read after the oplog rolled over, an increment that no full backup reaches
// through a continuous chain (so it restores nothing). Empty for a full backup or a whole
// chain. The objects themselves are checked by Catalog::verify.
std::vector<std::string> chain_problems(catalog::Catalog& catalog, const catalog::Manifest& increment);

// "[2026-12-04T18:00:00Z (1733335200.1) .. 2026-12-04T18:30:00Z (1733337000.9)] from backup X": for messages.
std::string describe_window(const catalog::RestoreWindow& window);

}  // namespace shardsafe::coordinator

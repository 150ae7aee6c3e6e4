// The points in time a storage can restore a deployment to: its full backups, extended by the
// chains of incremental backups (oplog slices) that continue them.
//
// An incremental backup covers (chain_start, consistency_point] on every replica set of its
// deployment. Increments whose ranges meet end to end form a continuous segment; a full backup
// whose consistency point lies in a segment (or at its start) can be rolled forward to any
// point of the segment after it. A window is such a stretch [from, to] of restorable points;
// between windows of a deployment are gaps (the oplog rolled over before it was read, or slices
// were removed). A full backup outside every segment is a window of one point.
//
// The timeline trusts the manifests (checksummed); whether the slices' bytes are intact is
// what verify and every restore check.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "mongo/bson.h"

namespace shardsafe::catalog {

struct RestoreWindow {
  std::string deployment;                 // its replica set names, sorted, comma-separated
  std::string base_backup;                // the oldest full backup the window starts from
  std::vector<std::string> full_backups;  // every full backup in it, oldest first
  mongo::Timestamp from, to;              // both restorable
};

struct ChainGap {
  std::string deployment;
  mongo::Timestamp from, to;  // no point strictly between them is restorable
  std::string reason;
};

struct Timeline {
  std::vector<RestoreWindow> windows;  // by deployment, then time
  std::vector<ChainGap> gaps;
};

// From the listing of committed backups (Catalog::list); backups with a problem are left out.
Timeline build_timeline(const std::vector<BackupSummary>& backups);
Timeline build_timeline(Catalog& catalog);

// "rs0,rs1,configRS": the deployment key of a backup.
std::string deployment_of(const BackupSummary& backup);

}  // namespace shardsafe::catalog

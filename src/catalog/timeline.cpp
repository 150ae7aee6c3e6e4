#include "catalog/timeline.h"

#include <algorithm>
#include <map>

namespace shardsafe::catalog {
namespace {

using mongo::Timestamp;

struct Segment {
  Timestamp from, to;  // slices cover from < ts <= to
};

struct Deployment {
  std::vector<Timestamp> fulls;
  std::map<Timestamp, std::string> full_ids;  // point -> id (the oldest of equal points)
  std::vector<Segment> increments;
};

// Increments whose ranges meet end to end (or overlap) merged into continuous segments.
std::vector<Segment> merge_segments(std::vector<Segment> increments) {
  std::sort(increments.begin(), increments.end(), [](const Segment& a, const Segment& b) { return a.from < b.from; });
  std::vector<Segment> merged;
  for (const auto& increment : increments) {
    if (!merged.empty() && increment.from <= merged.back().to) {
      merged.back().to = std::max(merged.back().to, increment.to);
    } else {
      merged.push_back(increment);
    }
  }
  return merged;
}

std::vector<RestoreWindow> windows_of(const std::string& name, const Deployment& deployment) {
  const auto segments = merge_segments(deployment.increments);
  std::vector<RestoreWindow> windows;
  auto fulls = deployment.fulls;
  std::sort(fulls.begin(), fulls.end());
  for (const Timestamp point : fulls) {
    const auto segment = std::find_if(segments.begin(), segments.end(),
                                      [&](const Segment& s) { return s.from <= point && point <= s.to; });
    const Timestamp to = segment == segments.end() ? point : segment->to;
    const std::string& id = deployment.full_ids.at(point);
    if (!windows.empty() && point <= windows.back().to) {
      windows.back().to = std::max(windows.back().to, to);
      if (windows.back().full_backups.back() != id) windows.back().full_backups.push_back(id);
      continue;
    }
    windows.push_back({name, id, {id}, point, to});
  }
  return windows;
}

}  // namespace

std::string deployment_of(const BackupSummary& backup) {
  auto names = backup.replica_sets;
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ",") + name;
  return out;
}

Timeline build_timeline(const std::vector<BackupSummary>& backups) {
  std::map<std::string, Deployment> deployments;
  for (const auto& backup : backups) {
    if (!backup.problem.empty()) continue;
    Deployment& deployment = deployments[deployment_of(backup)];
    if (backup.kind == "incremental") {
      deployment.increments.push_back({backup.chain_start, backup.consistency_point});
    } else {
      deployment.fulls.push_back(backup.consistency_point);
      deployment.full_ids.emplace(backup.consistency_point, backup.id);
    }
  }
  Timeline timeline;
  for (const auto& [name, deployment] : deployments) {
    const auto windows = windows_of(name, deployment);
    for (std::size_t i = 1; i < windows.size(); ++i) {
      timeline.gaps.push_back({name, windows[i - 1].to, windows[i].from,
                               "no oplog slices join backup \"" + windows[i - 1].full_backups.back() + "\" to backup \"" +
                                   windows[i].base_backup + "\" (an increment failed for an oplog rollover, or was removed)"});
    }
    timeline.windows.insert(timeline.windows.end(), windows.begin(), windows.end());
  }
  return timeline;
}

Timeline build_timeline(Catalog& catalog) { return build_timeline(catalog.list()); }

}  // namespace shardsafe::catalog

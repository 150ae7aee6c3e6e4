#include "catalog/summary_json.h"

#include "common/clock.h"

namespace shardsafe::catalog {

nlohmann::json summary_json(const BackupSummary& backup) {
  if (!backup.problem.empty()) return {{"id", backup.id}, {"problem", backup.problem}};
  return {{"id", backup.id},
          {"kind", backup.kind},
          {"base", backup.base},
          {"topology", backup.topology},
          {"started_at", backup.started_at},
          {"finished_at", backup.finished_at},
          {"consistency_point", backup.consistency_point.to_string()},
          {"compression", storage::compression_name(backup.compression)},
          {"encrypted", backup.encrypted},
          {"replica_sets", backup.replica_sets},
          {"collections", backup.collections},
          {"documents", backup.documents},
          {"raw_bytes", backup.raw_bytes},
          {"stored_bytes", backup.stored_bytes}};
}

nlohmann::json backup_result_json(const Manifest& manifest) {
  return {{"id", manifest.id},
          {"kind", manifest.kind},
          {"base", manifest.base},
          {"consistency_point", manifest.consistency_point.to_string()},
          {"documents", manifest.total_documents()},
          {"raw_bytes", manifest.total_raw_bytes()},
          {"stored_bytes", manifest.total_stored_bytes()},
          {"replica_sets", manifest.replica_sets.size()}};
}

nlohmann::json timestamp_json(mongo::Timestamp ts) {
  return {{"ts", ts.to_string()}, {"time", iso8601(std::chrono::system_clock::time_point(std::chrono::seconds(ts.seconds)))}};
}

nlohmann::json timeline_json(const Timeline& timeline) {
  nlohmann::json windows = nlohmann::json::array(), gaps = nlohmann::json::array();
  for (const auto& window : timeline.windows) {
    windows.push_back({{"deployment", window.deployment}, {"base_backup", window.base_backup}, {"full_backups", window.full_backups},
                       {"from", timestamp_json(window.from)}, {"to", timestamp_json(window.to)}});
  }
  for (const auto& gap : timeline.gaps) {
    gaps.push_back({{"deployment", gap.deployment}, {"from", timestamp_json(gap.from)}, {"to", timestamp_json(gap.to)}, {"reason", gap.reason}});
  }
  return {{"windows", windows}, {"gaps", gaps}};
}

}  // namespace shardsafe::catalog

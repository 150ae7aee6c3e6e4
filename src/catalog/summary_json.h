// The JSON forms of what the catalog lists: one backup's summary and a timeline of restorable
// windows and gaps. `shardsafe list --json` prints them; the server's API answers with them.
#pragma once

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/timeline.h"

namespace shardsafe::catalog {

// {"id", "kind", "base", "topology", "started_at", "finished_at", "consistency_point", ...};
// {"id", "problem"} for a backup whose manifest did not load.
nlohmann::json summary_json(const BackupSummary& backup);
// What a finished backup reports: {"id", "kind", "base", "consistency_point", "documents",
// "raw_bytes", "stored_bytes", "replica_sets"}.
nlohmann::json backup_result_json(const Manifest& manifest);
// {"ts": "<seconds>.<increment>", "time": "2026-12-04T18:30:00Z"}
nlohmann::json timestamp_json(mongo::Timestamp ts);
// {"windows": [{"deployment", "base_backup", "full_backups", "from", "to"}], "gaps": [{"deployment", "from", "to", "reason"}]}
nlohmann::json timeline_json(const Timeline& timeline);

}  // namespace shardsafe::catalog

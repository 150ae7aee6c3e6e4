// What continuous point-in-time slicing (`shardsafe pitr`) keeps in the storage:
//   pitr/state.json  the runner's heartbeat: who runs it, since when, the newest slice it
//                    committed and its last tick's error; rewritten every ~2 s while it runs and
//                    once, "stopped", when it ends;
//   pitr/stop.json   written by `pitr stop` to ask the runner to cut a final slice and exit.
// Both are small JSON objects written atomically (storage/storage.h write_object).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mongo/bson.h"
#include "storage/storage.h"

namespace shardsafe::catalog {

inline constexpr const char* kPitrStateKey = "pitr/state.json";
inline constexpr const char* kPitrStopKey = "pitr/stop.json";

// A runner heartbeats every ~2 s: a "running" state older than this belongs to one that died
// (or cannot reach the storage), and may be taken over.
inline constexpr std::int64_t kPitrDeadAfterMs = 10'000;

struct PitrState {
  std::string state;       // "running" or "stopped"
  std::int64_t pid = 0;
  std::string host;
  std::string deployment;  // the URI's hosts, without credentials
  std::int64_t span_s = 0;
  std::string started_at;
  std::int64_t heartbeat_ms = 0;      // wall clock of the last write
  std::string last_backup;            // the newest incremental backup committed by this runner
  mongo::Timestamp last_slice_end;    // its consistency point (null before the first slice)
  std::uint64_t slices = 0;           // slices committed by this runner
  std::string last_error;             // the last tick's error; empty once a tick succeeds
};

void save_pitr_state(storage::Storage& storage, const PitrState& state);
// The state, or nullopt when no runner ever wrote one. Error(kCorruptData) when it does not parse.
std::optional<PitrState> load_pitr_state(storage::Storage& storage);

// Asks the runner to stop; `requested_by` ("host:pid") is recorded for its log.
void request_pitr_stop(storage::Storage& storage, const std::string& requested_by);
bool pitr_stop_requested(storage::Storage& storage);
// Removes a stop request (a runner starting ignores the requests made before it).
void clear_pitr_stop(storage::Storage& storage);

}  // namespace shardsafe::catalog

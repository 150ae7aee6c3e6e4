// Continuous point-in-time slicing (`shardsafe pitr start|stop|status`): an incremental backup
// of the whole deployment every span, so that restore --to-time can reach any recent point.
//
// One runner per storage. It heartbeats into pitr/state.json (catalog/pitr_state.h); a second
// runner is refused while that heartbeat is live, and takes over one that is dead (heartbeat
// older than kPitrDeadAfterMs, or its pid gone on this host). Every tick is run_backup with
// `incremental`: it continues the chain from its newest backup, so a runner restarted after a
// crash (kill -9) first slices everything written while it was down, leaving no hole as long
// as the oplog still holds where the chain ended. A tick that fails is logged, recorded in the
// state and retried at the next tick; it never leaves a listed slice behind (run_backup commits
// the manifest last and removes the slices of a failed increment).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "catalog/pitr_state.h"
#include "coordinator/backup.h"
#include "storage/storage.h"

namespace shardsafe::coordinator {

struct PitrRequest {
  BackupRequest backup;  // the deployment, streams, agents; `incremental` is forced
  std::chrono::seconds span{600};
  std::chrono::milliseconds heartbeat{2000};
};

// Runs in the foreground until `stop_signal` becomes true (SIGTERM/SIGINT) or `pitr stop`
// asks it to in storage, then cuts a final slice and returns the number of slices committed.
// Steps: claim the state (Error(kConflict) naming the live holder), slice now, then every
// span; stop: final slice, state "stopped". A failure of the first tick that retrying cannot
// cure (no full backup to continue: kNotFound; a bad key, URI...) is thrown at once. A runner
// that finds another one took over (it stalled past the dead limit) stops without a final
// slice and throws Error(kConflict).
// REQUIRES: `stop_signal` outlives the call; it may be set from a signal handler.
std::uint64_t run_pitr(const PitrRequest& request, storage::Storage& storage, const std::atomic<bool>& stop_signal);

struct PitrStatus {
  std::optional<catalog::PitrState> state;  // none: pitr never ran on this storage
  bool running = false;                      // a live runner heartbeats
  std::optional<std::int64_t> lag_s;         // now minus the newest slice's end, once there is one
};

PitrStatus pitr_status(storage::Storage& storage);

// Whether `state` belongs to a live runner at `now_ms`.
bool pitr_runner_alive(const catalog::PitrState& state, std::int64_t now_ms);

// Asks the runner to stop (pitr/stop.json) and waits until it has cut its final slice and
// stopped; returns its final state. Error(kNotFound) when none runs; Error(kTimeout) when it
// still runs after `timeout` (it stops all the same once its slice is done).
catalog::PitrState stop_pitr(storage::Storage& storage, std::chrono::seconds timeout);

}  // namespace shardsafe::coordinator

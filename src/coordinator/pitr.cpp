#include "coordinator/pitr.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/error.h"
#include "common/process.h"
#include "common/redact.h"
#include "oplog/time_point.h"

namespace shardsafe::coordinator {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// How often the loop looks at its stop signals between ticks: a stop is noticed this fast.
constexpr milliseconds kPollInterval{100};

std::string describe_holder(const catalog::PitrState& state, std::int64_t now_ms) {
  return "pid " + std::to_string(state.pid) + " on " + state.host + " (started " + state.started_at + ", heartbeat " +
         std::to_string((now_ms - state.heartbeat_ms) / 1000) + " s ago)";
}

// One `pitr start`: the claim on the state, the heartbeat thread and the tick loop.
class PitrRunner {
 public:
  PitrRunner(const PitrRequest& request, storage::Storage& storage, const std::atomic<bool>& stop_signal)
      : request_(request), storage_(storage), stop_signal_(stop_signal) {}

  std::uint64_t run() {
    claim();
    heartbeat_ = std::jthread([this](std::stop_token stop) { heartbeat_until(stop); });
    try {
      // A fixed rate, as "every span" reads: a tick that runs long delays the next one only by
      // what it overran, so the lag stays near one span plus one tick.
      auto next = steady_clock::now() + request_.span;
      tick(true);
      for (; wait_until(next); next = std::max(next + request_.span, steady_clock::now())) tick(false);
      if (!lost_claim_) final_tick();
    } catch (const std::exception& error) {
      finish(error.what());
      throw;
    }
    finish("");
    if (lost_claim_) {
      throw Error(ErrorCode::kConflict, "another pitr took over on " + storage_.describe() + " (this one stalled past " +
                                            std::to_string(catalog::kPitrDeadAfterMs / 1000) + " s without a heartbeat)");
    }
    return state_.slices;
  }

 private:
  void claim() {
    const std::int64_t now = unix_ms();
    const auto holder = catalog::load_pitr_state(storage_);
    if (holder && pitr_runner_alive(*holder, now)) {
      throw Error(ErrorCode::kConflict, "pitr already runs on " + storage_.describe() + ": " + describe_holder(*holder, now) +
                                            "; stop it with `shardsafe pitr stop`, or start again 10 s after it died");
    }
    if (holder && holder->state == "running") {
      spdlog::warn("taking over pitr from {}, which died", describe_holder(*holder, now));
    }
    state_ = {"running", static_cast<std::int64_t>(getpid()), host_name(), redact_uri(request_.backup.uri),
              request_.span.count(), iso8601_now(), now, "", {}, 0, ""};
    catalog::clear_pitr_stop(storage_);  // a stop asked of an earlier runner is not for this one
    catalog::save_pitr_state(storage_, state_);
  }

  // Every heartbeat: checks that no other runner took over (this one stalled past the dead
  // limit), notices `pitr stop`, and rewrites the state.
  void heartbeat_until(std::stop_token stop) {
    std::mutex sleep_mutex;
    std::condition_variable_any sleeper;  // woken by the stop: the runner exits without waiting a beat
    while (true) {
      {
        std::unique_lock lock(sleep_mutex);
        if (sleeper.wait_for(lock, stop, request_.heartbeat, [&] { return stop.stop_requested(); })) return;
      }
      try {
        if (taken_over()) return;
        if (catalog::pitr_stop_requested(storage_)) stop_requested_ = true;
        save([](catalog::PitrState&) {});
      } catch (const std::exception& error) {
        spdlog::warn("pitr heartbeat failed: {} (retrying)", error.what());
      }
    }
  }

  // Under the mutex, so that no slice's save lands between reading the state and giving it up.
  bool taken_over() {
    std::lock_guard lock(mutex_);
    const auto current = catalog::load_pitr_state(storage_);
    if (!current || (current->pid == state_.pid && current->host == state_.host)) return false;
    spdlog::error("pitr was taken over by {}: stopping without a final slice", describe_holder(*current, unix_ms()));
    lost_claim_ = true;
    return true;
  }

  bool stopping() const { return stop_signal_ || stop_requested_ || lost_claim_; }

  // Sleeps until `deadline`; false when asked to stop first.
  bool wait_until(steady_clock::time_point deadline) const {
    while (!stopping()) {
      const auto now = steady_clock::now();
      if (now >= deadline) return true;
      std::this_thread::sleep_for(std::min<steady_clock::duration>(kPollInterval, deadline - now));
    }
    return false;
  }

  // One slice of the whole deployment, from the chain's newest backup to now.
  void slice() {
    BackupRequest backup = request_.backup;
    backup.incremental = true;
    backup.expected_base = state_.last_backup;  // written by this thread only
    Progress progress;
    const catalog::Manifest manifest = run_backup(backup, storage_, progress);
    save([&](catalog::PitrState& state) {
      state.last_backup = manifest.id;
      state.last_slice_end = manifest.consistency_point;
      ++state.slices;
      state.last_error.clear();
    });
    spdlog::info("pitr slice \"{}\" up to {}", manifest.id, oplog::describe_time_point(manifest.consistency_point));
  }

  // A failed tick is recorded and retried at the next; on the first one, only what retrying
  // can cure (a lock still held by a run that died, a connection) is.
  void tick(bool first) {
    try {
      slice();
    } catch (const Error& error) {
      if (first && !error.retryable()) throw;
      record_failure(error.what());
    }
  }

  // The final slice covers the writes up to the stop; its failure is the run's.
  void final_tick() {
    try {
      slice();
    } catch (const std::exception& error) {
      record_failure(error.what());
      throw;
    }
  }

  void record_failure(const std::string& error) {
    spdlog::error("pitr tick failed: {} (retried at the next tick)", error);
    try {
      save([&](catalog::PitrState& state) { state.last_error = error; });
    } catch (const std::exception& save_error) {
      spdlog::warn("could not record the failed tick: {}", save_error.what());
    }
  }

  // Stops the heartbeat and records the runner as stopped (with `error` if it failed).
  void finish(const std::string& error) noexcept {
    heartbeat_ = {};
    if (lost_claim_) return;  // the state is another runner's now: clear no stop request of its
    try {
      save([&](catalog::PitrState& state) {
        state.state = "stopped";
        if (!error.empty()) state.last_error = error;
      });
      catalog::clear_pitr_stop(storage_);
    } catch (const std::exception& save_error) {
      spdlog::warn("could not record that pitr stopped: {}", save_error.what());
    }
  }

  // Changes the state and writes it, under the mutex so that writes land in order; never once
  // the claim is lost (a slice finishing after the heartbeat saw the takeover would overwrite
  // the new runner's state).
  template <typename Change>
  void save(Change change) {
    std::lock_guard lock(mutex_);
    if (lost_claim_) return;
    change(state_);
    state_.heartbeat_ms = unix_ms();
    catalog::save_pitr_state(storage_, state_);
  }

  const PitrRequest& request_;
  storage::Storage& storage_;
  const std::atomic<bool>& stop_signal_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> lost_claim_{false};
  std::mutex mutex_;
  catalog::PitrState state_;  // guarded by mutex_ once the heartbeat runs
  std::jthread heartbeat_;    // last: stopped before the rest goes
};

}  // namespace

bool pitr_runner_alive(const catalog::PitrState& state, std::int64_t now_ms) {
  if (state.state != "running" || now_ms - state.heartbeat_ms > catalog::kPitrDeadAfterMs) return false;
  return state.host != host_name() || process_exists(state.pid);
}

std::uint64_t run_pitr(const PitrRequest& request, storage::Storage& storage, const std::atomic<bool>& stop_signal) {
  PitrRunner runner(request, storage, stop_signal);
  return runner.run();
}

PitrStatus pitr_status(storage::Storage& storage) {
  PitrStatus status;
  status.state = catalog::load_pitr_state(storage);
  if (!status.state) return status;
  const std::int64_t now = unix_ms();
  status.running = pitr_runner_alive(*status.state, now);
  if (!status.state->last_slice_end.is_null()) status.lag_s = now / 1000 - status.state->last_slice_end.seconds;
  return status;
}

catalog::PitrState stop_pitr(storage::Storage& storage, std::chrono::seconds timeout) {
  const auto status = pitr_status(storage);
  if (!status.running) throw Error(ErrorCode::kNotFound, "no pitr runs on " + storage.describe());
  catalog::request_pitr_stop(storage, this_process());
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    const auto now = pitr_status(storage);
    if (!now.running) return *now.state;
    if (steady_clock::now() > deadline) {
      throw Error(ErrorCode::kTimeout, "pitr (" + describe_holder(*now.state, unix_ms()) + ") did not stop within " +
                                           std::to_string(timeout.count()) + " s; it stops once its final slice is done");
    }
    std::this_thread::sleep_for(milliseconds(500));
  }
}

}  // namespace shardsafe::coordinator

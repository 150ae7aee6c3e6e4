#include "catalog/pitr_state.h"

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/error.h"

namespace shardsafe::catalog {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxStateBytes = 64 << 10;

}  // namespace

void save_pitr_state(storage::Storage& storage, const PitrState& state) {
  const json document = {{"state", state.state},
                         {"pid", state.pid},
                         {"host", state.host},
                         {"deployment", state.deployment},
                         {"span_s", state.span_s},
                         {"started_at", state.started_at},
                         {"heartbeat_ms", state.heartbeat_ms},
                         {"last_backup", state.last_backup},
                         {"last_slice_end", state.last_slice_end.to_string()},
                         {"slices", state.slices},
                         {"last_error", state.last_error}};
  storage::write_object(storage, kPitrStateKey, document.dump(2) + "\n");
}

std::optional<PitrState> load_pitr_state(storage::Storage& storage) {
  if (!storage.stat(kPitrStateKey)) return std::nullopt;
  const std::string text = storage::read_object(storage, kPitrStateKey, kMaxStateBytes);
  try {
    const json value = json::parse(text);
    return PitrState{value.at("state"),        value.at("pid"),          value.at("host"),
                     value.at("deployment"),   value.at("span_s"),       value.at("started_at"),
                     value.at("heartbeat_ms"), value.at("last_backup"),
                     mongo::Timestamp::parse(value.at("last_slice_end").get<std::string>()),
                     value.at("slices"),       value.at("last_error")};
  } catch (const std::exception& error) {
    throw Error(ErrorCode::kCorruptData, std::string("\"") + kPitrStateKey + "\" does not parse: " + error.what());
  }
}

void request_pitr_stop(storage::Storage& storage, const std::string& requested_by) {
  const json document = {{"requested_by", requested_by}, {"requested_at", iso8601_now()}};
  storage::write_object(storage, kPitrStopKey, document.dump(2) + "\n");
}

bool pitr_stop_requested(storage::Storage& storage) { return storage.stat(kPitrStopKey).has_value(); }

void clear_pitr_stop(storage::Storage& storage) { storage.remove({kPitrStopKey}); }

}  // namespace shardsafe::catalog

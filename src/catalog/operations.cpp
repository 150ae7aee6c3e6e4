#include "catalog/operations.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/error.h"

namespace shardsafe::catalog {
namespace {

using nlohmann::json;

constexpr const char* kOperationsFolder = "operations/";
constexpr std::size_t kMaxRecordBytes = 4 << 20;

json set_to_json(const OperationSet& set) {
  return {{"replica_set", set.replica_set}, {"runs_on", set.runs_on}, {"job", set.job},       {"state", set.state},
          {"phase", set.phase},             {"bytes", set.bytes},     {"documents", set.documents}, {"error", set.error}};
}

OperationSet set_from_json(const json& value) {
  return {value.at("replica_set"), value.at("runs_on"), value.at("job"),       value.at("state"),
          value.at("phase"),       value.at("bytes"),   value.at("documents"), value.at("error")};
}

OperationRecord record_from_json(const json& value) {
  OperationRecord record{value.at("id"),         value.at("kind"),         value.at("backup_id"),
                         value.at("state"),      value.at("phase"),        value.at("started_at"),
                         value.at("updated_at"), value.at("heartbeat_ms"), {},
                         value.at("error"),      value.value("decision", "")};
  for (const auto& set : value.at("sets")) record.sets.push_back(set_from_json(set));
  return record;
}

}  // namespace

std::string operation_state(const OperationRecord& record, std::int64_t now_ms) {
  if (record.state == "running" && now_ms - record.heartbeat_ms > kOperationAbandonedAfterMs) return "abandoned";
  return record.state;
}

bool backup_in_progress(const std::vector<OperationRecord>& records, const std::string& backup_id, std::int64_t now_ms) {
  return std::any_of(records.begin(), records.end(), [&](const OperationRecord& record) {
    return record.kind == "backup" && record.backup_id == backup_id && operation_state(record, now_ms) == "running";
  });
}

std::string operation_key(const std::string& id) { return kOperationsFolder + id + ".json"; }

void save_operation(storage::Storage& storage, const OperationRecord& record) {
  json sets = json::array();
  for (const auto& set : record.sets) sets.push_back(set_to_json(set));
  const json document = {{"id", record.id},           {"kind", record.kind},         {"backup_id", record.backup_id},
                         {"state", record.state},     {"phase", record.phase},       {"started_at", record.started_at},
                         {"updated_at", record.updated_at}, {"heartbeat_ms", record.heartbeat_ms}, {"sets", sets},
                         {"error", record.error}, {"decision", record.decision}};
  storage::write_object(storage, operation_key(record.id), document.dump(2) + "\n");
}

std::size_t prune_operations(storage::Storage& storage, std::size_t keep) {
  auto objects = storage::list_all(storage, kOperationsFolder);
  if (objects.size() <= keep) return 0;
  std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) { return a.modified > b.modified; });
  const auto live_since = std::chrono::system_clock::now() - std::chrono::milliseconds(kOperationAbandonedAfterMs);
  std::vector<std::string> old;
  for (std::size_t i = keep; i < objects.size(); ++i) {
    if (objects[i].modified < live_since) old.push_back(objects[i].key);
  }
  if (!old.empty()) storage.remove(old);
  return old.size();
}

std::optional<OperationRecord> load_operation(storage::Storage& storage, const std::string& id) {
  const std::string key = operation_key(id);
  std::string text;
  try {
    text = storage::read_object(storage, key, kMaxRecordBytes);
  } catch (const Error& error) {
    if (error.code() == ErrorCode::kNotFound) return std::nullopt;
    throw;
  }
  try {
    return record_from_json(json::parse(text));
  } catch (const json::exception& error) {
    throw Error(ErrorCode::kCorruptData, "operation record \"" + key + "\" is malformed: " + error.what());
  }
}

std::vector<OperationRecord> list_operations(storage::Storage& storage) {
  std::vector<OperationRecord> records;
  for (const auto& object : storage::list_all(storage, kOperationsFolder)) {
    try {
      records.push_back(record_from_json(json::parse(storage::read_object(storage, object.key, kMaxRecordBytes))));
    } catch (const std::exception& error) {
      spdlog::warn("skipping operation record \"{}\": {}", object.key, error.what());
    }
  }
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.started_at > b.started_at; });
  return records;
}

}  // namespace shardsafe::catalog

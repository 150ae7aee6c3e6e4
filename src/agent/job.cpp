#include "agent/job.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <type_traits>

#include "common/clock.h"

namespace shardsafe::agent {
namespace {

constexpr std::array<std::pair<JobState, std::string_view>, 7> kStateNames = {{
    {JobState::kQueued, "queued"},
    {JobState::kRunning, "running"},
    {JobState::kAwaiting, "awaiting"},
    {JobState::kSucceeded, "succeeded"},
    {JobState::kFailed, "failed"},
    {JobState::kCancelled, "cancelled"},
    {JobState::kLost, "lost"},
}};

template <typename T>
T field(const nlohmann::json& value, const char* name, const std::string& source) {
  const auto wrong = [&] {
    return Error(ErrorCode::kCorruptData, "job status " + source + ": field \"" + name + "\" is missing or of the wrong type");
  };
  try {
    const nlohmann::json& field = value.at(name);
    // nlohmann::json converts any number to any arithmetic type: a float out of range of T is
    // undefined behaviour, a negative count wraps. Counts are integers of their own sign.
    if constexpr (std::is_unsigned_v<T>) {
      if (!field.is_number_unsigned()) throw wrong();
    } else if constexpr (std::is_integral_v<T>) {
      if (!field.is_number_integer()) throw wrong();
    }
    return field.get<T>();
  } catch (const nlohmann::json::exception&) {
    throw wrong();
  }
}

}  // namespace

std::string_view job_state_name(JobState state) {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "unknown";
}

JobState parse_job_state(std::string_view name) {
  for (const auto& [value, known] : kStateNames) {
    if (known == name) return value;
  }
  throw Error(ErrorCode::kCorruptData, "unknown job state \"" + std::string(name) + "\"");
}

bool is_final(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed || state == JobState::kCancelled ||
         state == JobState::kLost;
}

nlohmann::json to_json(const JobStatus& status) {
  nlohmann::json out = {{"id", status.id},
                        {"kind", status.kind},
                        {"state", job_state_name(status.state)},
                        {"phase", status.progress.phase},
                        {"bytes", status.progress.bytes},
                        {"bytes_total", status.progress.bytes_total},
                        {"documents", status.progress.documents},
                        {"units_done", status.progress.units_done},
                        {"units_total", status.progress.units_total},
                        {"result", status.result},
                        {"started_at", status.started_at},
                        {"updated_at", status.updated_at},
                        {"heartbeat_ms", status.heartbeat_ms}};
  if (status.error) out["error"] = {{"code", status.error->code}, {"message", status.error->message}};
  return out;
}

JobStatus job_status_from_json(const nlohmann::json& value, const std::string& source) {
  if (!value.is_object()) throw Error(ErrorCode::kCorruptData, "job status " + source + " is not a JSON object");
  JobStatus status;
  status.id = field<std::string>(value, "id", source);
  status.kind = field<std::string>(value, "kind", source);
  status.state = parse_job_state(field<std::string>(value, "state", source));
  status.progress.phase = field<std::string>(value, "phase", source);
  status.progress.bytes = field<std::uint64_t>(value, "bytes", source);
  status.progress.bytes_total = field<std::uint64_t>(value, "bytes_total", source);
  status.progress.documents = field<std::uint64_t>(value, "documents", source);
  status.progress.units_done = field<std::uint64_t>(value, "units_done", source);
  status.progress.units_total = field<std::uint64_t>(value, "units_total", source);
  status.result = value.value("result", nlohmann::json::object());
  status.started_at = field<std::string>(value, "started_at", source);
  status.updated_at = field<std::string>(value, "updated_at", source);
  status.heartbeat_ms = field<std::int64_t>(value, "heartbeat_ms", source);
  if (value.contains("error")) {
    const auto& error = value["error"];
    status.error = JobError{field<std::string>(error, "code", source), field<std::string>(error, "message", source)};
  }
  return status;
}

void validate_job_id(const std::string& id) {
  const bool valid_characters = std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
  if (id.empty() || id.size() > 128 || !valid_characters || id == "." || id == "..") {
    throw Error(ErrorCode::kInvalidArgument,
                "invalid job id \"" + id.substr(0, 140) + "\": expected 1 to 128 characters of [A-Za-z0-9._-]");
  }
}

Error job_error(const JobStatus& status) {
  if (!status.error) return Error(ErrorCode::kInternal, "job \"" + status.id + "\" is " + std::string(job_state_name(status.state)));
  return Error(error_code_from_name(status.error->code), status.error->message);
}

}  // namespace shardsafe::agent

#include "agent/client.h"

#include <httplib.h>

namespace shardsafe::agent {
namespace {

using nlohmann::json;

std::string with_scheme(const std::string& address) {
  return address.starts_with("http://") || address.starts_with("https://") ? address : "http://" + address;
}

}  // namespace

AgentClient::AgentClient(AgentEndpoint endpoint)
    : endpoint_(std::move(endpoint)), client_(std::make_unique<httplib::Client>(with_scheme(endpoint_.address))) {
  client_->set_connection_timeout(5);
  client_->set_read_timeout(60);
  client_->set_write_timeout(60);
  client_->set_bearer_token_auth(endpoint_.token.c_str());
  if (!endpoint_.ca_file.empty()) client_->set_ca_cert_path(endpoint_.ca_file.c_str());
}

AgentClient::~AgentClient() = default;

json AgentClient::call(const std::string& method, const std::string& path, const json* body) {
  httplib::Result result = method == "GET" ? client_->Get(path.c_str())
                                           : client_->Post(path.c_str(), body ? body->dump() : "{}", "application/json");
  if (!result) {
    throw Error(ErrorCode::kConnection, "agent \"" + endpoint_.address + "\" is unreachable (" + httplib::to_string(result.error()) + ")");
  }
  const json answer = json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  if (result->status == 401) {
    throw Error(ErrorCode::kUnauthorized, "agent \"" + endpoint_.address + "\" refused the token (401): check --agent-token-file");
  }
  if (result->status >= 300) {
    const std::string name = answer.is_object() ? answer.value("error", "internal") : "internal";
    const std::string message = answer.is_object() ? answer.value("message", result->body) : result->body;
    throw Error(error_code_from_name(name), "agent \"" + endpoint_.address + "\": " + message);
  }
  if (answer.is_discarded()) {
    throw Error(ErrorCode::kCorruptData, "agent \"" + endpoint_.address + "\" answered " + path + " with something that is not JSON");
  }
  return answer;
}

JobStatus AgentClient::start(const JobSpec& spec) {
  const json body = {{"id", spec.id}, {"kind", spec.kind}, {"params", spec.params}};
  return job_status_from_json(call("POST", "/v1/jobs", &body), "from " + describe());
}

JobStatus AgentClient::status(const std::string& id) {
  validate_job_id(id);
  return job_status_from_json(call("GET", "/v1/jobs/" + id, nullptr), "from " + describe());
}

std::vector<JobStatus> AgentClient::list() {
  std::vector<JobStatus> out;
  for (const auto& item : call("GET", "/v1/jobs", nullptr)) out.push_back(job_status_from_json(item, "from " + describe()));
  return out;
}

void AgentClient::cancel(const std::string& id) {
  validate_job_id(id);
  call("POST", "/v1/jobs/" + id + "/cancel", nullptr);
}

void AgentClient::resume(const std::string& id, const json& decision) {
  validate_job_id(id);
  const json body = {{"decision", decision}};
  call("POST", "/v1/jobs/" + id + "/resume", &body);
}

json AgentClient::health() { return call("GET", "/v1/health", nullptr); }

}  // namespace shardsafe::agent

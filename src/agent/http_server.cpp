#include "agent/http_server.h"

#include <spdlog/spdlog.h>

#include "agent/http_json.h"
#include "mongo/topology.h"
#include "version.h"

namespace shardsafe::agent {
namespace {

using http::guarded;
using http::parse_body;
using http::reply;
using http::reply_error;
using nlohmann::json;

constexpr std::size_t kMaxBodyBytes = 64 << 20;
constexpr const char* kJobIdPattern = "([A-Za-z0-9._-]+)";

JobSpec spec_from(const json& body) {
  JobSpec spec;
  if (!body.contains("id") || !body["id"].is_string()) throw Error(ErrorCode::kInvalidArgument, "field \"id\" (a string) is required");
  if (!body.contains("kind") || !body["kind"].is_string()) throw Error(ErrorCode::kInvalidArgument, "field \"kind\" (a string) is required");
  spec.id = body["id"];
  spec.kind = body["kind"];
  spec.params = body.value("params", json::object());
  if (spec.params.is_null()) spec.params = json::object();
  if (!spec.params.is_object()) throw Error(ErrorCode::kInvalidArgument, "field \"params\" must be an object");
  return spec;
}

}  // namespace

AgentServer::AgentServer(JobService& jobs, AgentServerOptions options) : jobs_(jobs), options_(std::move(options)) {
  if (options_.token.empty()) throw Error(ErrorCode::kInvalidArgument, "the agent needs a token (--token-file)");
  server_ = http::make_server(options_.tls_cert, options_.tls_key, "the agent");
  server_->set_payload_max_length(kMaxBodyBytes);
  add_routes();
  port_ = http::bind_server(*server_, options_.host, options_.port, "the agent");
}

AgentServer::~AgentServer() { stop(); }

void AgentServer::run() { server_->listen_after_bind(); }

void AgentServer::stop() { server_->stop(); }

json AgentServer::health() const {
  json out = {{"ok", true}, {"version", kVersion}};
  if (options_.mongod_uri.empty()) return out;
  try {
    mongo::Client client{mongo::Uri(options_.mongod_uri)};
    const auto hello = mongo::hello(client);
    out["mongod"] = {{"me", hello.me}, {"set", hello.set_name}, {"writable_primary", hello.writable_primary}};
  } catch (const Error& error) {
    out["mongod"] = {{"error", error.what()}};
  }
  return out;
}

void AgentServer::add_routes() {
  server_->set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
    if (http::bearer_token_matches(request.get_header_value("Authorization"), options_.token)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    spdlog::warn("agent: refused {} {} from {}: missing or wrong token", request.method, request.path, request.remote_addr);
    reply_error(response, Error(ErrorCode::kUnauthorized, "missing or wrong bearer token"));
    return httplib::Server::HandlerResponse::Handled;
  });
  server_->Get("/v1/health", guarded([this](const httplib::Request&, httplib::Response& response) { reply(response, 200, health()); }));
  server_->Post("/v1/jobs", guarded([this](const httplib::Request& request, httplib::Response& response) {
                  reply(response, 200, to_json(jobs_.start(spec_from(parse_body(request)))));
                }));
  server_->Get("/v1/jobs", guarded([this](const httplib::Request&, httplib::Response& response) {
                 json all = json::array();
                 for (const auto& status : jobs_.list()) all.push_back(to_json(status));
                 reply(response, 200, all);
               }));
  server_->Get(std::string("/v1/jobs/") + kJobIdPattern, guarded([this](const httplib::Request& request, httplib::Response& response) {
                 reply(response, 200, to_json(jobs_.status(request.matches[1])));
               }));
  server_->Post(std::string("/v1/jobs/") + kJobIdPattern + "/cancel",
                guarded([this](const httplib::Request& request, httplib::Response& response) {
                  const std::string id = request.matches[1];
                  jobs_.cancel(id);
                  reply(response, 200, to_json(jobs_.status(id)));
                }));
  server_->Post(std::string("/v1/jobs/") + kJobIdPattern + "/resume",
                guarded([this](const httplib::Request& request, httplib::Response& response) {
                  const std::string id = request.matches[1];
                  jobs_.resume(id, parse_body(request).value("decision", json::object()));
                  reply(response, 200, to_json(jobs_.status(id)));
                }));
}

}  // namespace shardsafe::agent

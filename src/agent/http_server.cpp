#include "agent/http_server.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "mongo/topology.h"
#include "storage/hash.h"
#include "version.h"

namespace shardsafe::agent {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxBodyBytes = 64 << 20;
constexpr const char* kJobIdPattern = "([A-Za-z0-9._-]+)";

void reply(httplib::Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

void reply_error(httplib::Response& response, const Error& error) {
  reply(response, error.info().http_status, {{"error", error.info().name}, {"message", error.what()}});
}

json parse_body(const httplib::Request& request) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) throw Error(ErrorCode::kInvalidArgument, "the request body is not a JSON object");
  return body;
}

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

// Runs a route's handler, turning its errors into the documented error answers.
template <typename Handler>
auto guarded(Handler handler) {
  return [handler](const httplib::Request& request, httplib::Response& response) {
    try {
      handler(request, response);
    } catch (const Error& error) {
      reply_error(response, error);
    } catch (const std::exception& error) {
      reply_error(response, Error(ErrorCode::kInternal, error.what()));
    }
  };
}

}  // namespace

bool bearer_token_matches(const std::string& header, const std::string& token) {
  // Comparing digests keeps the time independent of the lengths as well as of the content.
  const std::string given = storage::sha256_hex(storage::as_bytes(header));
  const std::string expected = storage::sha256_hex(storage::as_bytes("Bearer " + token));
  return CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

AgentServer::AgentServer(JobService& jobs, AgentServerOptions options) : jobs_(jobs), options_(std::move(options)) {
  if (options_.token.empty()) throw Error(ErrorCode::kInvalidArgument, "the agent needs a token (--token-file)");
  if (options_.tls_cert.empty() != options_.tls_key.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "--tls-cert and --tls-key go together");
  }
  if (options_.tls_cert.empty()) {
    server_ = std::make_unique<httplib::Server>();
  } else {
    auto tls = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
    if (!tls->is_valid()) {
      throw Error(ErrorCode::kInvalidArgument, "cannot load the TLS certificate \"" + options_.tls_cert + "\" and key \"" +
                                                   options_.tls_key + "\"");
    }
    server_ = std::move(tls);
  }
  server_->set_payload_max_length(kMaxBodyBytes);
  add_routes();
  port_ = options_.port == 0 ? server_->bind_to_any_port(options_.host) : (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port_ <= 0) {
    throw Error(ErrorCode::kConnection, "the agent cannot listen on " + options_.host + ":" + std::to_string(options_.port));
  }
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
    if (bearer_token_matches(request.get_header_value("Authorization"), options_.token)) {
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

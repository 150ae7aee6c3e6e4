#include "agent/http_json.h"

#include <openssl/crypto.h>

#include "storage/hash.h"

namespace shardsafe::agent::http {

void reply(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

void reply_error(httplib::Response& response, const Error& error) {
  reply(response, error.info().http_status, {{"error", error.info().name}, {"message", error.what()}});
}

nlohmann::json parse_body(const httplib::Request& request) {
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) throw Error(ErrorCode::kInvalidArgument, "the request body is not a JSON object");
  return body;
}

bool bearer_token_matches(const std::string& header, const std::string& token) {
  // Comparing digests keeps the time independent of the lengths as well as of the content.
  const std::string given = storage::sha256_hex(storage::as_bytes(header));
  const std::string expected = storage::sha256_hex(storage::as_bytes("Bearer " + token));
  return CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

std::unique_ptr<httplib::Server> make_server(const std::string& tls_cert, const std::string& tls_key, const std::string& who) {
  if (tls_cert.empty() != tls_key.empty()) throw Error(ErrorCode::kInvalidArgument, who + ": a TLS certificate and key go together");
  if (tls_cert.empty()) return std::make_unique<httplib::Server>();
  auto tls = std::make_unique<httplib::SSLServer>(tls_cert.c_str(), tls_key.c_str());
  if (!tls->is_valid()) {
    throw Error(ErrorCode::kInvalidArgument, who + " cannot load the TLS certificate \"" + tls_cert + "\" and key \"" + tls_key + "\"");
  }
  return tls;
}

int bind_server(httplib::Server& server, const std::string& host, int port, const std::string& who) {
  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw Error(ErrorCode::kConnection, who + " cannot listen on " + host + ":" + std::to_string(port));
  return bound;
}

}  // namespace shardsafe::agent::http

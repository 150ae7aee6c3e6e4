// The pieces of an HTTP/JSON endpoint that `shardsafe agent` and `shardsafe server` share:
// JSON answers, errors as {"error": <stable name>, "message"} with the HTTP status of the
// error table (common/error.h), bearer tokens compared in constant time, plain or TLS servers.
#pragma once

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.h"

namespace shardsafe::agent::http {

void reply(httplib::Response& response, int status, const nlohmann::json& body);
void reply_error(httplib::Response& response, const Error& error);
// The body as a JSON object; Error(kInvalidArgument) otherwise.
nlohmann::json parse_body(const httplib::Request& request);

// Whether `header` is "Bearer <token>", in time independent of where they differ.
bool bearer_token_matches(const std::string& header, const std::string& token);

// A server, over TLS when `tls_cert` and `tls_key` (PEM files) are given. `who` names the
// server in messages ("the agent"). Error(kInvalidArgument) for half a pair or unloadable files.
std::unique_ptr<httplib::Server> make_server(const std::string& tls_cert, const std::string& tls_key, const std::string& who);
// Binds `host:port` (port 0: any free port) and returns the port; Error(kConnection) otherwise.
int bind_server(httplib::Server& server, const std::string& host, int port, const std::string& who);

// Wraps a route's handler, turning its errors into the documented error answers.
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

}  // namespace shardsafe::agent::http

// The one error vocabulary of shardsafe.
//
// Every failure that crosses a layer is a shardsafe::Error carrying an ErrorCode. The code
// table (error.cpp) gives each code a stable name, the CLI exit code and the HTTP status the
// API answers with, and whether retrying the same call can succeed. Messages are lowercase,
// quote the names they refer to ('backup "2026-..." not found'), and never contain secrets:
// pass URIs through redact_uri() before putting them in a message.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace shardsafe {

enum class ErrorCode {
  kInvalidArgument,     // bad flag value, malformed option
  kBadUri,              // a MongoDB or storage URI that does not parse
  kNotFound,            // a named thing (backup id, object, namespace) does not exist
  kAlreadyExists,       // refusing to overwrite (non-empty namespace without --drop, ...)
  kChecksumMismatch,    // bytes read back differ from the manifest
  kCorruptData,         // a file or object that does not parse (truncated, bad BSON)
  kUnsupportedVersion,  // a manifest or format version this build does not know
  kChainGap,            // an oplog chain with a hole (rollover, missing slice)
  kWrongKey,            // decryption failed authentication
  kConnection,          // cannot reach a server or storage endpoint
  kServer,              // a MongoDB server answered with an error
  kStorage,             // storage answered with an error
  kTimeout,             // a deadline passed
  kConflict,            // a lock is held, a concurrent operation is running
  kCancelled,           // the user or the coordinator cancelled
  kUnauthorized,        // a bearer token missing or refused (agent, API)
  kInternal,            // a bug: an invariant of shardsafe itself failed
};

struct ErrorCodeInfo {
  ErrorCode code;
  std::string_view name;  // stable, snake_case: appears in --json output and status files
  int exit_code;          // the CLI's process exit code
  int http_status;        // the REST API's status
  bool retryable;         // the same call may succeed later
};

// REQUIRES: code is a value of the enum. Never fails.
const ErrorCodeInfo& error_code_info(ErrorCode code);
// The code whose stable name is `name`, or kInternal when none is.
ErrorCode error_code_from_name(std::string_view name);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);
  ErrorCode code() const noexcept { return code_; }
  const ErrorCodeInfo& info() const noexcept { return error_code_info(code_); }
  bool retryable() const noexcept { return info().retryable; }

 private:
  ErrorCode code_;
};

// A MongoDB server's error: keeps the server's numeric code and codeName
// (e.g. 11000 DuplicateKey) so callers can react to specific server errors.
class ServerError : public Error {
 public:
  ServerError(int server_code, std::string code_name, const std::string& message);
  int server_code() const noexcept { return server_code_; }
  const std::string& code_name() const noexcept { return code_name_; }

 private:
  int server_code_;
  std::string code_name_;
};

}  // namespace shardsafe

#include "common/error.h"

#include <array>

namespace shardsafe {
namespace {

// Exit codes: 0 success, 1 unexpected, 2 usage (CLI11's own), then one per family.
constexpr std::array kCodes = {
    ErrorCodeInfo{ErrorCode::kInvalidArgument, "invalid_argument", 2, 400, false},
    ErrorCodeInfo{ErrorCode::kBadUri, "bad_uri", 2, 400, false},
    ErrorCodeInfo{ErrorCode::kNotFound, "not_found", 3, 404, false},
    ErrorCodeInfo{ErrorCode::kAlreadyExists, "already_exists", 4, 409, false},
    ErrorCodeInfo{ErrorCode::kChecksumMismatch, "checksum_mismatch", 5, 422, false},
    ErrorCodeInfo{ErrorCode::kCorruptData, "corrupt_data", 5, 422, false},
    ErrorCodeInfo{ErrorCode::kUnsupportedVersion, "unsupported_version", 6, 422, false},
    ErrorCodeInfo{ErrorCode::kChainGap, "chain_gap", 7, 422, false},
    ErrorCodeInfo{ErrorCode::kWrongKey, "wrong_key", 8, 422, false},
    ErrorCodeInfo{ErrorCode::kConnection, "connection", 10, 502, true},
    ErrorCodeInfo{ErrorCode::kServer, "server", 11, 502, false},
    ErrorCodeInfo{ErrorCode::kStorage, "storage", 12, 502, true},
    ErrorCodeInfo{ErrorCode::kTimeout, "timeout", 13, 504, true},
    ErrorCodeInfo{ErrorCode::kConflict, "conflict", 14, 409, true},
    ErrorCodeInfo{ErrorCode::kCancelled, "cancelled", 15, 499, false},
    ErrorCodeInfo{ErrorCode::kUnauthorized, "unauthorized", 9, 401, false},
    ErrorCodeInfo{ErrorCode::kInternal, "internal", 1, 500, false},
};

}  // namespace

const ErrorCodeInfo& error_code_info(ErrorCode code) {
  for (const auto& info : kCodes) {
    if (info.code == code) return info;
  }
  return kCodes.back();
}

ErrorCode error_code_from_name(std::string_view name) {
  for (const auto& info : kCodes) {
    if (info.name == name) return info.code;
  }
  return ErrorCode::kInternal;
}

Error::Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}

ServerError::ServerError(int server_code, std::string code_name, const std::string& message)
    : Error(ErrorCode::kServer, message), server_code_(server_code), code_name_(std::move(code_name)) {}

}  // namespace shardsafe

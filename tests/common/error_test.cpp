#include "common/error.h"

#include <gtest/gtest.h>

#include <set>

namespace shardsafe {
namespace {

constexpr ErrorCode kAllCodes[] = {
    ErrorCode::kInvalidArgument, ErrorCode::kBadUri,        ErrorCode::kNotFound,
    ErrorCode::kAlreadyExists,   ErrorCode::kChecksumMismatch, ErrorCode::kCorruptData,
    ErrorCode::kUnsupportedVersion, ErrorCode::kChainGap,   ErrorCode::kWrongKey,
    ErrorCode::kConnection,      ErrorCode::kServer,        ErrorCode::kStorage,
    ErrorCode::kTimeout,         ErrorCode::kConflict,      ErrorCode::kCancelled,       ErrorCode::kUnauthorized,
    ErrorCode::kInternal};

TEST(ErrorCodes, EveryCodeHasItsOwnStableNameThatRoundTrips) {
  std::set<std::string_view> names;
  for (ErrorCode code : kAllCodes) {
    const auto& info = error_code_info(code);
    EXPECT_EQ(info.code, code);
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_EQ(error_code_from_name(info.name), code);
  }
}

TEST(ErrorCodes, FailuresNeverExitZeroAndMapToErrorStatuses) {
  for (ErrorCode code : kAllCodes) {
    EXPECT_NE(error_code_info(code).exit_code, 0);
    EXPECT_GE(error_code_info(code).http_status, 400);
  }
}

TEST(ErrorCodes, UnknownNameIsInternal) {
  EXPECT_EQ(error_code_from_name("no_such_code"), ErrorCode::kInternal);
}

TEST(ServerError, KeepsServerCodeAndName) {
  ServerError error(11000, "DuplicateKey", "duplicate key on \"db.c\"");
  EXPECT_EQ(error.code(), ErrorCode::kServer);
  EXPECT_EQ(error.server_code(), 11000);
  EXPECT_EQ(error.code_name(), "DuplicateKey");
  EXPECT_FALSE(error.retryable());
}

}  // namespace
}  // namespace shardsafe

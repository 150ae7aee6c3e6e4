// SCRAM credentials as mongod stores them in admin.system.users (RFC 5802 for SCRAM-SHA-1,
// RFC 7677 for SCRAM-SHA-256): {iterationCount, salt, storedKey, serverKey}, base64 strings.
#pragma once

#include <string>

#include "server/bson_util.h"

namespace sandbox {

inline constexpr const char* kScramSha1 = "SCRAM-SHA-1";
inline constexpr const char* kScramSha256 = "SCRAM-SHA-256";

// One mechanism's credential document for `user`'s cleartext `password`, with a fresh random
// salt. SCRAM-SHA-1 hashes the MD5 hex digest of "<user>:mongo:<password>" (MongoDB's legacy
// pre-digest), SCRAM-SHA-256 the password itself. Salts are 16 (SHA-1) and 28 (SHA-256)
// bytes and iteration counts 10000 / 15000, mongod's defaults. Throws 2 BadValue for an
// unknown mechanism and for SCRAM-SHA-256 passwords that would need SASLprep (non-ASCII or
// control characters), which the sandbox does not implement.
Doc scram_credential(const std::string& mechanism, const std::string& user,
                     const std::string& password);

}  // namespace sandbox

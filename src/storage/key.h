// Object keys: validation shared by every driver, so a key means the same thing everywhere.
#pragma once

#include <string>

namespace shardsafe::storage {

// REQUIRES nothing. Throws Error(kInvalidArgument) quoting the key unless it is a relative
// '/'-separated path: not empty, no leading or trailing '/', no empty, "." or ".." segment,
// no NUL or backslash. Keeping keys this strict keeps the file driver inside its root.
void validate_key(const std::string& key);

// Like validate_key, for list prefixes: may be empty and may end with '/'.
void validate_prefix(const std::string& prefix);

}  // namespace shardsafe::storage

// Keeping secrets out of logs and error messages.
#pragma once

#include <string>
#include <string_view>

namespace shardsafe {

// A URI safe to print: the password of `scheme://user:password@host` becomes "***", and the
// values of query parameters that carry secrets (password, secret, token, key, signature,
// credential, including AWS's X-Amz-* forms) become "***". Anything that does not look like a
// URI is returned unchanged.
std::string redact_uri(std::string_view uri);

}  // namespace shardsafe

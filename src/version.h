// The version of shardsafe, recorded in every manifest.
#pragma once

namespace shardsafe {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace shardsafe

// Short random names, for things that must not collide with an earlier or concurrent run's.
#pragma once

#include <cstddef>
#include <string>

namespace shardsafe {

// `length` characters of [a-z0-9] from std::random_device.
std::string random_token(std::size_t length);

}  // namespace shardsafe

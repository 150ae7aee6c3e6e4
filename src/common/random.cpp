#include "common/random.h"

#include <random>

namespace shardsafe {

std::string random_token(std::size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device device;
  std::string out;
  for (std::size_t i = 0; i < length; ++i) out += kAlphabet[device() % (sizeof kAlphabet - 1)];
  return out;
}

}  // namespace shardsafe

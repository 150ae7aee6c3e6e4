// Damaging stored objects on purpose, for tests of what a damaged backup does.
#pragma once

#include <filesystem>
#include <fstream>

namespace shardsafe::testing {

// Overwrites the byte in the middle of `file` with one that differs from it.
inline void flip_middle_byte(const std::filesystem::path& file) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  const auto middle = static_cast<std::streamoff>(std::filesystem::file_size(file) / 2);
  stream.seekg(middle);
  const char original = static_cast<char>(stream.get());
  stream.seekp(middle);
  stream.put(static_cast<char>(original ^ 0x5a));
}

}  // namespace shardsafe::testing

// Runs the shardsafe binary as a user does, for the CLI tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "support/sandbox.h"

namespace shardsafe::testing {

struct Run {
  int exit_code;
  std::string out;  // stdout and stderr together
};

inline Run shardsafe(const std::string& arguments) {
  const std::string command = (build_dir() / "shardsafe").string() + " --quiet " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The JSON document at the end of `out` (logs may come before it).
inline nlohmann::json last_json(const std::string& out) { return nlohmann::json::parse(out.substr(out.find("\n{") + 1)); }

}  // namespace shardsafe::testing

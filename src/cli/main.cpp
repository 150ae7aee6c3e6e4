#include <CLI/CLI.hpp>

#include "common/log.h"

int main(int argc, char** argv) {
  CLI::App app{"shardsafe: backup and restore for MongoDB replica sets and sharded clusters"};
  app.set_version_flag("--version", "shardsafe 0.1.0");
  CLI11_PARSE(app, argc, argv);
  return 0;
}

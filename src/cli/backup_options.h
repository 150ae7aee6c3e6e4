// The flags of every verb that backs a deployment up (backup, pitr start), defined once.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "cli/context.h"
#include "coordinator/backup.h"

namespace shardsafe::cli {

struct BackupFlags {
  std::string uri;
  int parallel = 4;
  std::string read_preference = "primary";
  std::string compression = "zstd";
  int compression_level = 3;
  int compression_threads = 0;
  std::uint64_t part_size = 512ull << 20;
  int lock_lease_seconds = 60;
  int lock_wait_seconds = 30;
};

// Adds --uri, the dump and stream flags, the lock flags, and the storage, key and agent options.
void add_backup_options(CLI::App& verb, BackupFlags& flags, Context& context);
// The request those flags (and the context's storage, key and agents) describe.
coordinator::BackupRequest backup_request(const BackupFlags& flags, const Context& context);

}  // namespace shardsafe::cli

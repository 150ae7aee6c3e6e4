// shardsafe backup: a full (or, with --incremental, an oplog) backup of a replica set or,
// through a mongos, a sharded cluster.
#include <spdlog/spdlog.h>

#include "cli/context.h"
#include "cli/progress_view.h"
#include "common/numbers.h"
#include "coordinator/backup.h"
#include "oplog/time_point.h"
#include "storage/pipeline.h"

namespace shardsafe::cli {
namespace {

struct BackupFlags {
  std::string uri;
  int parallel = 4;
  std::string read_preference = "primary";
  std::string compression = "zstd";
  int compression_level = 3;
  int compression_threads = 0;
  std::uint64_t part_size = 512ull << 20;
  int lock_lease_seconds = 60;
  bool incremental = false;
};

nlohmann::json describe_result(const catalog::Manifest& manifest) {
  return {{"id", manifest.id},
          {"kind", manifest.kind},
          {"base", manifest.base},
          {"consistency_point", manifest.consistency_point.to_string()},
          {"documents", manifest.total_documents()},
          {"raw_bytes", manifest.total_raw_bytes()},
          {"stored_bytes", manifest.total_stored_bytes()},
          {"replica_sets", manifest.replica_sets.size()}};
}

// Rewrites a size ("512MiB") as its bytes for CLI11 to store, or names what is wrong with it.
CLI::Validator byte_size_validator() {
  return CLI::Validator(
      [](std::string& text) {
        const auto bytes = parse_byte_size(text);
        if (!bytes) return "\"" + text + "\" is not a size: a whole number of bytes or with a unit (512MiB, 1GiB)";
        text = std::to_string(*bytes);
        return std::string();
      },
      "SIZE");
}

void run(const BackupFlags& flags, const Context& context) {
  auto storage = context.open_storage();
  coordinator::BackupRequest request;
  request.uri = flags.uri;
  request.incremental = flags.incremental;
  request.dump.parallel_collections = flags.parallel;
  request.dump.read_preference = mongo::parse_read_preference(flags.read_preference);
  request.dump.stream.compression = storage::parse_compression(flags.compression);
  request.dump.stream.compression_level = flags.compression_level;
  request.dump.stream.compression_threads = flags.compression_threads;
  request.dump.stream.part_size = flags.part_size;
  request.dump.stream.encryption = context.encryption_key();
  request.agents = context.agent_settings();
  if (request.agents.enabled()) request.storage_location = context.storage_location();
  request.lock_lease = std::chrono::seconds(flags.lock_lease_seconds);
  Progress progress;
  catalog::Manifest manifest;
  {
    ProgressView view(progress, !context.show_progress());
    manifest = coordinator::run_backup(request, *storage, progress);
  }
  context.print(describe_result(manifest), [&] {
    if (manifest.kind == "incremental") {
      std::uint64_t entries = 0;
      for (const auto& set : manifest.replica_sets) entries += set.oplog_entries;
      fmt::print("incremental backup {} complete: {} oplog entries after backup {}, {} stored, up to {}\n", manifest.id, entries,
                 manifest.base, human_bytes(manifest.total_stored_bytes()), oplog::describe_time_point(manifest.consistency_point));
      return;
    }
    fmt::print("backup {} complete: {} documents, {} raw, {} stored, consistent at {}\n", manifest.id,
               manifest.total_documents(), human_bytes(manifest.total_raw_bytes()),
               human_bytes(manifest.total_stored_bytes()), manifest.consistency_point.to_string());
  });
}

}  // namespace

void add_backup_verb(CLI::App& app, Context& context) {
  auto flags = std::make_shared<BackupFlags>();
  auto* verb = app.add_subcommand("backup", "take a full backup of a replica set or a sharded cluster");
  verb->add_option("--uri", flags->uri, "MongoDB URI of the replica set (seed list with replicaSet=...) or of a mongos")->required();
  verb->add_flag("--incremental", flags->incremental,
                 "back up only the oplog since the newest backup of this deployment (full or incremental), on every "
                 "replica set up to one cluster time: restore to any point with restore --to-time");
  verb->add_option("--parallel", flags->parallel, "collections dumped at once")->check(CLI::Range(1, 64));
  verb->add_option("--read-preference", flags->read_preference, "member to read: primary or secondary(Preferred)");
  verb->add_option("--compression", flags->compression, "zstd (default), gzip (mongodump --gzip tree) or none");
  verb->add_option("--compression-level", flags->compression_level, "compression level");
  verb->add_option("--compression-threads", flags->compression_threads, "zstd worker threads per stream (0 = inline)");
  // S3 takes objects of up to 5 TiB; parts under 1 MiB would only multiply requests.
  verb->add_option("--part-size", flags->part_size, "split stored streams larger than this (512MiB, 1GiB, bytes)")
      ->transform(byte_size_validator())
      ->check(CLI::Range(std::uint64_t{1} << 20, std::uint64_t{5} << 40));
  verb->add_option("--lock-lease", flags->lock_lease_seconds,
                   "seconds after which the lock of a run that died may be taken over (renewed while running)")
      ->check(CLI::Range(5, 3600));
  add_storage_options(*verb, context);
  add_key_options(*verb, context);
  add_agent_options(*verb, context);
  verb->callback([flags, &context] { run(*flags, context); });
}

}  // namespace shardsafe::cli

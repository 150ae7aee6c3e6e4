#include "cli/backup_options.h"

#include "common/numbers.h"
#include "storage/pipeline.h"

namespace shardsafe::cli {
namespace {

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

}  // namespace

void add_backup_options(CLI::App& verb, BackupFlags& flags, Context& context) {
  verb.add_option("--uri", flags.uri, "MongoDB URI of the replica set (seed list with replicaSet=...) or of a mongos")->required();
  verb.add_option("--parallel", flags.parallel, "collections dumped at once")->check(CLI::Range(1, 64));
  verb.add_option("--read-preference", flags.read_preference, "member to read: primary or secondary(Preferred)");
  verb.add_option("--compression", flags.compression, "zstd (default), gzip (mongodump --gzip tree) or none");
  verb.add_option("--compression-level", flags.compression_level, "compression level");
  verb.add_option("--compression-threads", flags.compression_threads, "zstd worker threads per stream (0 = inline)");
  // S3 takes objects of up to 5 TiB; parts under 1 MiB would only multiply requests.
  verb.add_option("--part-size", flags.part_size, "split stored streams larger than this (512MiB, 1GiB, bytes)")
      ->transform(byte_size_validator())
      ->check(CLI::Range(std::uint64_t{1} << 20, std::uint64_t{5} << 40));
  verb.add_option("--lock-lease", flags.lock_lease_seconds,
                  "seconds after which the lock of a run that died may be taken over (renewed while running)")
      ->check(CLI::Range(5, 3600));
  verb.add_option("--lock-wait", flags.lock_wait_seconds,
                  "seconds to wait for the lock while another run (e.g. a pitr slice) holds it")
      ->check(CLI::Range(0, 3600));
  add_storage_options(verb, context);
  add_key_options(verb, context);
  add_agent_options(verb, context);
}

coordinator::BackupRequest backup_request(const BackupFlags& flags, const Context& context) {
  coordinator::BackupRequest request;
  request.uri = flags.uri;
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
  request.lock_wait = std::chrono::seconds(flags.lock_wait_seconds);
  return request;
}

}  // namespace shardsafe::cli

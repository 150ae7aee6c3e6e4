// shardsafe export / import: moving dumps in and out in mongodump's own formats.
#include <fmt/format.h>

#include <filesystem>

#include "catalog/catalog.h"
#include "cli/context.h"
#include "common/error.h"
#include "dump/archive_export.h"
#include "storage/open.h"

namespace shardsafe::cli {
namespace {

namespace fs = std::filesystem;

struct TransferFlags {
  std::string backup_id;
  std::string replica_set;
  std::string archive;
  std::string dump_dir;
  std::string compression = "zstd";
};

// The replica set of a backup to export: the only one, or the one named.
const catalog::ReplicaSetBackup& pick_set(const catalog::Manifest& manifest, const std::string& wanted) {
  for (const auto& set : manifest.replica_sets) {
    if ((wanted.empty() && manifest.replica_sets.size() == 1) || set.name == wanted || set.shard == wanted) return set;
  }
  throw Error(ErrorCode::kInvalidArgument,
              "backup \"" + manifest.id + "\" has " + std::to_string(manifest.replica_sets.size()) +
                  " replica sets: name the one to export with --replica-set");
}

void run_export(const TransferFlags& flags, const Context& context) {
  auto storage = context.open_storage();
  const auto manifest = catalog::Catalog(*storage).load(flags.backup_id);
  const auto& set = pick_set(manifest, flags.replica_set);
  // Written like any file:// object: to a temp file, renamed into place only when complete.
  const fs::path target = fs::absolute(flags.archive);
  auto folder = storage::open_storage("file://" + target.parent_path().string());
  auto writer = folder->create(target.filename().string());
  const auto documents = dump::export_archive(*storage, set, context.encryption_key(), *writer);
  writer->commit();
  context.print({{"backup_id", manifest.id}, {"archive", target.string()}, {"documents", documents}}, [&] {
    fmt::print("exported replica set {} of backup {} to {} ({} documents)\n", set.name, manifest.id, target.string(), documents);
  });
}

void run_import(const TransferFlags& flags, const Context& context) {
  auto storage = context.open_storage();
  dump::ImportOptions options;
  if (!flags.replica_set.empty()) options.replica_set = flags.replica_set;
  options.stream.compression = storage::parse_compression(flags.compression);
  options.stream.encryption = context.encryption_key();
  catalog::Manifest manifest;
  if (!flags.archive.empty()) {
    const fs::path source = fs::absolute(flags.archive);
    auto folder = storage::open_storage("file://" + source.parent_path().string());
    auto reader = folder->open(source.filename().string());
    manifest = dump::import_archive(*reader, source.string(), *storage, options);
  } else {
    manifest = dump::import_dump_directory(flags.dump_dir, *storage, options);
  }
  context.print({{"id", manifest.id}, {"documents", manifest.total_documents()}}, [&] {
    fmt::print("imported as backup {} ({} documents); restore it with `shardsafe restore --backup {}`\n", manifest.id,
               manifest.total_documents(), manifest.id);
  });
}

}  // namespace

void add_transfer_verbs(CLI::App& app, Context& context) {
  auto flags = std::make_shared<TransferFlags>();
  auto* export_verb = app.add_subcommand("export", "write a backup as a mongodump --archive file");
  export_verb->add_option("--backup", flags->backup_id, "backup id")->required();
  export_verb->add_option("--archive", flags->archive, "the archive file to write")->required();
  export_verb->add_option("--replica-set", flags->replica_set, "which set of a sharded backup");
  add_storage_options(*export_verb, context);
  add_key_options(*export_verb, context);
  export_verb->callback([flags, &context] { run_export(*flags, context); });

  auto* import_verb = app.add_subcommand("import", "store a mongodump directory or --archive file as a shardsafe backup");
  auto* archive = import_verb->add_option("--archive", flags->archive, "a mongodump --archive file (plain or gzipped)");
  auto* dir = import_verb->add_option("--dump-dir", flags->dump_dir, "a mongodump output directory (plain or --gzip)");
  archive->excludes(dir);
  import_verb->add_option("--replica-set", flags->replica_set, "the replica set name to record (default \"imported\")");
  import_verb->add_option("--compression", flags->compression, "how to store it: zstd (default), gzip or none");
  add_storage_options(*import_verb, context);
  add_key_options(*import_verb, context);
  import_verb->callback([flags, &context] {
    if (flags->archive.empty() && flags->dump_dir.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "import needs --archive FILE or --dump-dir DIR");
    }
    run_import(*flags, context);
  });
}

}  // namespace shardsafe::cli

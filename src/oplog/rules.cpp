#include "oplog/rules.h"

#include <algorithm>
#include <array>

namespace shardsafe::oplog {
namespace {

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

constexpr std::array<std::string_view, 5> kSkippedOpTypes = {"n", "cd", "ci", "cu", "km"};

// The config collections mongodump dumps and mongorestore restores and replays.
constexpr std::array<std::string_view, 7> kReplayedConfigCollections = {
    "chunks", "collections", "databases", "settings", "shards", "tags", "version"};

constexpr std::array<std::string_view, 5> kSkippedCommands = {
    "startIndexBuild", "abortIndexBuild", "setMultikeyMetadata", "dropIdent", "dbCheck"};

constexpr std::array<std::string_view, 17> kKnownCommands = {
    "create",           "drop",          "dropDatabase",    "renameCollection", "collMod",
    "convertToCapped",  "emptycapped",   "createIndexes",   "commitIndexBuild", "dropIndexes",
    "deleteIndexes",    "dropIndex",     "deleteIndex",     "applyOps",         "commitTransaction",
    "abortTransaction", "importCollection"};

}  // namespace

bool is_skipped_op_type(std::string_view op) { return contains(kSkippedOpTypes, op); }

bool is_ignored_namespace(std::string_view ns) {
  if (ns.starts_with("__mdb_internal")) return true;
  if (!ns.starts_with("config.")) return false;
  return !contains(kReplayedConfigCollections, ns.substr(std::string_view("config.").size()));
}

bool is_skipped_command(std::string_view name) { return contains(kSkippedCommands, name); }

bool is_known_command(std::string_view name) {
  return contains(kKnownCommands, name) || is_skipped_command(name);
}

std::string target_namespace(const OplogEntry& entry) {
  if (entry.op != "c") return entry.ns;
  const auto named = mongo::BsonView(entry.o).string(entry.command_name());
  if (!named) return entry.ns;
  if (entry.command_name() == "renameCollection") return *named;  // already "db.coll"
  return entry.db() + "." + *named;
}

}  // namespace shardsafe::oplog

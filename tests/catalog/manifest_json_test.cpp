#include "catalog/manifest_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "storage/hash.h"

namespace shardsafe::catalog {
namespace {

storage::StoredStream stream(const std::string& key, std::uint64_t size, storage::Compression compression) {
  storage::StoredStream out;
  out.key = key;
  out.parts = {{key + ".zst.000", size, std::string(64, 'a')}, {key + ".zst.001", 7, std::string(64, 'b')}};
  out.raw_size = size * 3;
  out.compression = compression;
  out.encryption_key_id = "k1";
  return out;
}

Manifest sample_manifest() {
  Manifest manifest;
  manifest.id = "2026-11-25T22-10-00Z";
  manifest.kind = "full";
  manifest.topology = "sharded";
  manifest.started_at = "2026-11-25T22:10:00Z";
  manifest.finished_at = "2026-11-25T22:12:30Z";
  manifest.consistency_point = {1764108750, 12};
  manifest.compression = storage::Compression::kGzip;
  manifest.encryption_key_id = "k1";
  manifest.tool_version = "0.1.0";
  ReplicaSetBackup set;
  set.name = "rs0";
  set.shard = "shard0";
  set.source_host = "127.0.0.1:27018";
  set.server_version = "7.0.14";
  set.start_optime = {1764108600, 1};
  set.end_optime = {0xFFFFFFFFu, 0xFFFFFFFEu};
  CollectionEntry collection;
  collection.db = "shop";
  collection.name = "orders \"q\" \xC3\xA9";
  collection.type = "view";
  collection.data = stream("backups/x/rs0/shop/orders.bson", 1ull << 40, storage::Compression::kZstd);
  collection.metadata = stream("backups/x/rs0/shop/orders.metadata.json", 90, storage::Compression::kNone);
  collection.documents = 18446744073709551615ull;  // uint64 max survives JSON
  collection.bytes = 123;
  set.collections.push_back(collection);
  set.oplog = stream("backups/x/rs0/oplog.bson", 55, storage::Compression::kGzip);
  set.oplog_entries = 19;
  manifest.replica_sets = {set, set};
  manifest.replica_sets[1].name = "configRS";
  manifest.replica_sets[1].collections.clear();
  return manifest;
}

void expect_same_stream(const storage::StoredStream& a, const storage::StoredStream& b) {
  EXPECT_EQ(a.key, b.key);
  ASSERT_EQ(a.parts.size(), b.parts.size());
  for (std::size_t i = 0; i < a.parts.size(); ++i) {
    EXPECT_EQ(a.parts[i].key, b.parts[i].key);
    EXPECT_EQ(a.parts[i].size, b.parts[i].size);
    EXPECT_EQ(a.parts[i].sha256, b.parts[i].sha256);
  }
  EXPECT_EQ(a.raw_size, b.raw_size);
  EXPECT_EQ(a.compression, b.compression);
  EXPECT_EQ(a.encryption_key_id, b.encryption_key_id);
}

template <typename Fn>
Error expect_error(Fn&& fn) {
  try {
    fn();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "no error thrown";
  return Error(ErrorCode::kInternal, "none");
}

// Rewrites a manifest's JSON with `edit` applied and a correct checksum, as a newer or a buggy
// writer would produce it.
std::string edited(const std::string& text, const std::function<void(nlohmann::json&)>& edit) {
  auto document = nlohmann::json::parse(text);
  document.erase("checksum");
  edit(document);
  document["checksum"] = storage::sha256_hex(storage::as_bytes(document.dump()));
  return document.dump();
}

TEST(ManifestJson, RoundTripsEveryField) {
  const Manifest original = sample_manifest();
  const Manifest parsed = manifest_from_json(manifest_to_json(original), original.id);
  EXPECT_EQ(parsed.format_version, kManifestFormatVersion);
  EXPECT_EQ(parsed.id, original.id);
  EXPECT_EQ(parsed.kind, original.kind);
  EXPECT_EQ(parsed.topology, original.topology);
  EXPECT_EQ(parsed.started_at, original.started_at);
  EXPECT_EQ(parsed.finished_at, original.finished_at);
  EXPECT_EQ(parsed.consistency_point, original.consistency_point);
  EXPECT_EQ(parsed.compression, original.compression);
  EXPECT_EQ(parsed.encryption_key_id, original.encryption_key_id);
  EXPECT_EQ(parsed.tool_version, original.tool_version);
  ASSERT_EQ(parsed.replica_sets.size(), 2u);
  for (std::size_t s = 0; s < 2; ++s) {
    const auto& a = parsed.replica_sets[s];
    const auto& b = original.replica_sets[s];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.shard, b.shard);
    EXPECT_EQ(a.source_host, b.source_host);
    EXPECT_EQ(a.server_version, b.server_version);
    EXPECT_EQ(a.start_optime, b.start_optime);
    EXPECT_EQ(a.end_optime, b.end_optime);
    EXPECT_EQ(a.oplog_entries, b.oplog_entries);
    expect_same_stream(a.oplog, b.oplog);
    ASSERT_EQ(a.collections.size(), b.collections.size());
    for (std::size_t c = 0; c < a.collections.size(); ++c) {
      EXPECT_EQ(a.collections[c].db, b.collections[c].db);
      EXPECT_EQ(a.collections[c].name, b.collections[c].name);
      EXPECT_EQ(a.collections[c].type, b.collections[c].type);
      EXPECT_EQ(a.collections[c].documents, b.collections[c].documents);
      EXPECT_EQ(a.collections[c].bytes, b.collections[c].bytes);
      expect_same_stream(a.collections[c].data, b.collections[c].data);
      expect_same_stream(a.collections[c].metadata, b.collections[c].metadata);
    }
  }
}

TEST(ManifestJson, TimestampsAndVersionAreWrittenAsDocumented) {
  const auto document = nlohmann::json::parse(manifest_to_json(sample_manifest()));
  EXPECT_EQ(document["format_version"], 2);
  EXPECT_EQ(document["consistency_point"], (nlohmann::json{{"t", 1764108750}, {"i", 12}}));
  EXPECT_EQ(document["replica_sets"][0]["end_optime"]["t"], 4294967295u);
  EXPECT_EQ(document["compression"], "gzip");
  EXPECT_EQ(document["replica_sets"][0]["collections"][0]["data"]["compression"], "zstd");
  EXPECT_EQ(document["replica_sets"][0]["collections"][0]["data"]["parts"][1]["size"], 7);
  EXPECT_TRUE(document["checksum"].is_string());  // the file's order is checked below
  const std::string text = manifest_to_json(sample_manifest());
  EXPECT_EQ(text.find("{\n  \"format_version\": 2,\n  \"id\""), 0u) << text.substr(0, 80);
  EXPECT_LT(text.find("\"replica_sets\""), text.find("\"checksum\""));
}

TEST(ManifestJson, ChecksumIsTheDocumentedSha256) {
  // Computed with the python3 recipe in manifest_json.h over this exact manifest.
  Manifest manifest;
  manifest.id = "2026-01-02T03-04-05Z";
  manifest.started_at = "s";
  manifest.finished_at = "f";
  manifest.consistency_point = {10, 2};
  manifest.tool_version = "t\xC3\xA9";
  const auto document = nlohmann::json::parse(manifest_to_json(manifest));
  EXPECT_EQ(document["checksum"], "05b27ba54839b0392e1550406295144e03fe88a68d64f221fbe5bbd68623a0a5");
}

TEST(ManifestJson, AnyChangedValueIsAChecksumMismatch) {
  std::string text = manifest_to_json(sample_manifest());
  const auto at = text.find("\"documents\": 18446744073709551615");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string("\"documents\": 18446744073709551615").size(), "\"documents\": 18446744073709551614");
  const Error error = expect_error([&] { manifest_from_json(text, "2026-11-25T22-10-00Z"); });
  EXPECT_EQ(error.code(), ErrorCode::kChecksumMismatch);
  EXPECT_NE(std::string(error.what()).find("manifest of backup \"2026-11-25T22-10-00Z\" is corrupt"), std::string::npos)
      << error.what();
}

TEST(ManifestJson, MissingChecksumIsAMismatch) {
  auto document = nlohmann::json::parse(manifest_to_json(sample_manifest()));
  document.erase("checksum");
  EXPECT_EQ(expect_error([&] { manifest_from_json(document.dump(), "b"); }).code(), ErrorCode::kChecksumMismatch);
}

TEST(ManifestJson, NewerFormatVersionIsUnsupported) {
  const std::string text = edited(manifest_to_json(sample_manifest()), [](auto& d) { d["format_version"] = 3; });
  const Error error = expect_error([&] { manifest_from_json(text, "2026-11-25T22-10-00Z"); });
  EXPECT_EQ(error.code(), ErrorCode::kUnsupportedVersion);
  const std::string message = error.what();
  EXPECT_NE(message.find("format version 3"), std::string::npos) << message;
  EXPECT_NE(message.find("\"2026-11-25T22-10-00Z\""), std::string::npos) << message;
  // Checked before the checksum: a newer format may checksum differently.
  auto unsummed = nlohmann::json::parse(text);
  unsummed["checksum"] = "whatever";
  EXPECT_EQ(expect_error([&] { manifest_from_json(unsummed.dump(), "x"); }).code(), ErrorCode::kUnsupportedVersion);
}

TEST(ManifestJson, MalformedJsonIsCorruptData) {
  std::string text = manifest_to_json(sample_manifest());
  text.resize(text.size() / 2);
  for (const std::string& bad : {text, std::string("[1,2]"), std::string(""), std::string("{\"format_version\":\"1\"}")}) {
    const Error error = expect_error([&] { manifest_from_json(bad, "b1"); });
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData) << bad;
    EXPECT_NE(std::string(error.what()).find("\"b1\""), std::string::npos);
  }
}

TEST(ManifestJson, WrongFieldTypesAreCorruptDataNamingTheField) {
  const std::string base = manifest_to_json(sample_manifest());
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases = {
      {[](auto& d) { d.erase("tool_version"); }, "\"tool_version\" is missing"},
      {[](auto& d) { d["replica_sets"][0]["collections"][0]["documents"] = -1; }, "replica_sets[0].collections[0].documents"},
      {[](auto& d) { d["replica_sets"][1]["oplog"]["parts"][0]["sha256"] = 5; }, "replica_sets[1].oplog.parts[0].sha256"},
      {[](auto& d) { d["consistency_point"]["t"] = 1ull << 33; }, "consistency_point.t"},
      {[](auto& d) { d["compression"] = "lz4"; }, "unknown compression \"lz4\""},
  };
  for (const auto& [edit, fragment] : cases) {
    // Captured by an init-capture: clang before 16 cannot capture structured bindings.
    const Error error = expect_error([&, &edit = edit] { manifest_from_json(edited(base, edit), "b"); });
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

TEST(ManifestTotals, SumCollectionsAndOplog) {
  const Manifest manifest = sample_manifest();
  EXPECT_EQ(manifest.total_documents(), 18446744073709551615ull);
  EXPECT_EQ(manifest.total_raw_bytes(), 123u + 2 * 55 * 3);
  const std::uint64_t stored = ((1ull << 40) + 7) + (90 + 7) + 2 * (55 + 7);
  EXPECT_EQ(manifest.total_stored_bytes(), stored);
}

}  // namespace
}  // namespace shardsafe::catalog

namespace shardsafe::catalog {
namespace {

// A version-1 manifest (written before incremental backups existed): no "base".
std::string version_1_text(const Manifest& manifest) {
  return edited(manifest_to_json(manifest), [](auto& d) {
    d.erase("base");
    d["format_version"] = 1;
  });
}

TEST(ManifestJson, Version1ManifestsAreStillRead) {
  const Manifest parsed = manifest_from_json(version_1_text(sample_manifest()), "2026-11-25T22-10-00Z");
  EXPECT_EQ(parsed.format_version, 1);
  EXPECT_EQ(parsed.kind, "full");
  EXPECT_TRUE(parsed.base.empty());
}

Manifest sample_increment() {
  Manifest manifest = sample_manifest();
  manifest.kind = "incremental";
  manifest.base = "2026-11-25T22-00-00Z";
  for (auto& set : manifest.replica_sets) {
    set.collections.clear();
    set.oplog_md5 = "0cc175b9c0f1b6a831c399e269772661";
    set.source_oldest_optime = {1764100000, 3};
  }
  return manifest;
}

TEST(ManifestJson, IncrementalFieldsRoundTrip) {
  Manifest manifest = sample_increment();
  LaterSlice later;
  later.oplog.key = "oplog/rs0/x.bson";
  later.oplog.parts.push_back({"oplog/rs0/x.bson", 5, std::string(64, 'a')});
  later.entries = 7;
  later.md5 = "m";
  manifest.replica_sets[0].later_oplog = {later, later};
  const Manifest parsed = manifest_from_json(manifest_to_json(manifest), manifest.id);
  EXPECT_EQ(parsed.kind, "incremental");
  EXPECT_EQ(parsed.base, "2026-11-25T22-00-00Z");
  const auto& set = parsed.replica_sets[0];
  EXPECT_EQ(set.oplog_md5, "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(set.source_oldest_optime, (mongo::Timestamp{1764100000, 3}));
  ASSERT_EQ(set.later_oplog.size(), 2u);
  EXPECT_EQ(set.later_oplog[1].oplog.parts[0].key, "oplog/rs0/x.bson");
  EXPECT_EQ(set.later_oplog[1].entries, 7u);
  EXPECT_EQ(set.later_oplog[1].md5, "m");
  // A full backup's sets carry none of it.
  EXPECT_EQ(manifest_to_json(sample_manifest()).find("oplog_md5"), std::string::npos);
}

TEST(ManifestJson, AnIncrementWithoutBaseOrWithAnUnknownKindIsRefused) {
  const std::string no_base = edited(manifest_to_json(sample_increment()), [](auto& d) { d["base"] = ""; });
  EXPECT_NE(std::string(expect_error([&] { manifest_from_json(no_base, "b"); }).what()).find("\"base\""), std::string::npos);
  const std::string odd = edited(manifest_to_json(sample_manifest()), [](auto& d) { d["kind"] = "differential"; });
  EXPECT_NE(std::string(expect_error([&] { manifest_from_json(odd, "b"); }).what()).find("\"kind\""), std::string::npos);
}

}  // namespace
}  // namespace shardsafe::catalog

// Writes the seed corpora of tests/fuzz/corpus/<target>/ with the product's own writers, from
// the samples of the unit tests (replay_test, metadata_test, manifest_json_test,
// xml_retry_test, archive_test, the agent README's status file). Run once and commit the result:
//   build-fuzz/fuzz/fuzz_seed_corpus tests/fuzz/corpus
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <string>
#include <vector>

#include "catalog/manifest_json.h"
#include "dump/archive.h"
#include "mongo/bson.h"
#include "server/wire.h"
#include "storage/compress.h"
#include "storage/hash.h"

namespace {

using namespace shardsafe;
using Bytes = std::vector<std::uint8_t>;

std::filesystem::path root;

void write(const std::string& target, const std::string& name, std::span<const std::uint8_t> bytes) {
  std::filesystem::create_directories(root / target);
  std::ofstream(root / target / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                               static_cast<std::streamsize>(bytes.size()));
}
void write(const std::string& target, const std::string& name, std::string_view text) {
  write(target, name, storage::as_bytes(text));
}

void append(Bytes& out, std::span<const std::uint8_t> bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

// Concatenated BSON of relaxed Extended JSON documents.
Bytes documents(std::initializer_list<std::string_view> jsons) {
  Bytes out;
  for (const std::string_view json : jsons) append(out, mongo::Bson::from_json(json).bytes());
  return out;
}

class VectorSink : public storage::Sink {
 public:
  void write(std::span<const std::uint8_t> bytes) override { append(out, bytes); }
  void finish() override {}
  Bytes out;
};

constexpr std::string_view kOrdersMetadata =
    R"({"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],)"
    R"("uuid":"ffa7054f30dc422696fa9607e150cb53","collectionName":"orders","type":"collection"})";
constexpr std::string_view kViewMetadata =
    R"({"options":{"viewOn":"orders","pipeline":[{"$match":{"a":{"$gt":{"$numberInt":"1"}}}}]},"indexes":[],)"
    R"("uuid":"ffa7054f30dc422696fa9607e150cb53","collectionName":"v","type":"view"})";

void archives() {
  VectorSink plain;
  {
    dump::ArchiveWriter writer(plain, {4, "0.1", "7.0.14", "100.9.4"},
                               {{"shop", "orders", std::string(kOrdersMetadata), ""},
                                {"shop", "v", std::string(kViewMetadata), "view"},
                                dump::archive_oplog_entry()});
    // Two segments of orders, interleaved with the oplog's.
    writer.write_document("shop", "orders", mongo::Bson::from_json(R"({"_id": 1, "s": "x"})").bytes());
    writer.write_document("", "oplog", mongo::Bson::from_json(R"({"ts": {"$timestamp": {"t": 5, "i": 1}}, "op": "n",
                                                                  "ns": "", "o": {"msg": "x"}})").bytes());
    writer.write_document("shop", "orders", mongo::Bson::from_json(R"({"_id": 2, "s": "xx"})").bytes());
    writer.finish();
  }
  write("archive", "orders_view_oplog.archive", plain.out);
  VectorSink gzipped;
  auto gzip = storage::make_compress_sink(storage::Compression::kGzip, 6, 0, gzipped);
  gzip->write(plain.out);
  gzip->finish();
  write("archive", "gzipped.archive", gzipped.out);
}

void bson_streams() {
  write("bson_stream", "documents.bson",
        documents({R"({"_id": 1, "s": "x"})", R"({"a": [1, {"b": null}], "d": {"$date": "2026-11-25T00:00:00Z"}})",
                   R"({"n": {"$numberDecimal": "1.5"}, "bin": {"$binary": {"base64": "AAEC", "subType": "00"}}})"}));
  Bytes segments = documents({R"({"db": "shop", "collection": "orders", "EOF": false, "CRC": {"$numberLong": "0"}})",
                              R"({"_id": 1})"});
  append(segments, std::array<std::uint8_t, 4>{0xFF, 0xFF, 0xFF, 0xFF});
  append(segments, documents({R"({"_id": 2})"}));
  write("bson_stream", "segments.bson", segments);
}

std::string ts(int seconds) { return R"({"$timestamp": {"t": )" + std::to_string(seconds) + R"(, "i": 1}})"; }
constexpr std::string_view kUuid = R"({"$binary": {"base64": "AAECAwQFBgcICQoLDA0ODw==", "subType": "04"}})";
constexpr std::string_view kLsid = R"({"id": {"$binary": {"base64": "q83vASNFZ4mrze8BI0VniQ==", "subType": "04"}}})";

// An entry at `seconds` with the given fields after ts, t and v.
std::string entry(int seconds, const std::string& fields) {
  return R"({"ts": )" + ts(seconds) + R"(, "t": {"$numberLong": "1"}, "v": {"$numberLong": "2"}, )" + fields + "}";
}
std::string command(int seconds, const std::string& ns, const std::string& o) {
  return entry(seconds, R"("op": "c", "ns": ")" + ns + R"(", "ui": )" + std::string(kUuid) + R"(, "o": )" + o);
}
std::string transaction(int seconds, int txn, const std::string& extra) {
  return entry(seconds, R"("op": "c", "ns": "admin.$cmd", "lsid": )" + std::string(kLsid) +
                            R"(, "txnNumber": {"$numberLong": ")" + std::to_string(txn) +
                            R"("}, "o": {"applyOps": [{"op": "i", "ns": "test.c", "ui": )" + std::string(kUuid) +
                            R"(, "o": {"_id": )" + std::to_string(seconds) + "}}]" + extra + "}");
}

void oplogs() {
  const std::string ui = R"(, "ui": )" + std::string(kUuid);
  const std::string crud[] = {
      entry(1, R"("op": "n", "ns": "", "o": {"msg": "periodic noop"})"),
      entry(2, R"("op": "i", "ns": "test.c")" + ui + R"(, "o": {"_id": 1}, "wall": {"$date": "2026-11-25T00:00:00Z"})"),
      entry(3, R"("op": "u", "ns": "test.c")" + ui + R"(, "o": {"$v": 2, "diff": {"u": {"a": 1}}}, "o2": {"_id": 1},
               "lsid": )" + std::string(kLsid) + R"(, "txnNumber": {"$numberLong": "4"}, "stmtId": 0,
               "prevOpTime": {"ts": {"$timestamp": {"t": 0, "i": 0}}, "t": {"$numberLong": "-1"}})"),
      entry(4, R"("op": "d", "ns": "test.c")" + ui + R"(, "o": {"_id": 1})"),
      entry(5, R"("op": "i", "ns": "config.system.sessions", "o": {"_id": 1})"),
  };
  const std::string ddl[] = {
      command(1, "test.$cmd", R"({"create": "c", "recordIdsReplicated": true, "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"}})"),
      command(2, "test.$cmd", R"({"createIndexes": "c", "v": 2, "key": {"a": 1}, "name": "a_1"})"),
      command(3, "test.$cmd", R"({"startIndexBuild": "c", "indexBuildUUID": )" + std::string(kUuid) + "}"),
      command(4, "test.$cmd", R"({"commitIndexBuild": "c", "indexBuildUUID": )" + std::string(kUuid) +
                                  R"(, "indexes": [{"v": 2, "key": {"b": -1}, "name": "b_-1"}]})"),
      command(5, "test.$cmd", R"({"collMod": "c", "noPadding": true, "validator": {"a": {"$type": "string"}}})"),
      command(6, "admin.$cmd", R"({"renameCollection": "test.c", "to": "test.d", "dropTarget": )" + std::string(kUuid) + "}"),
      command(7, "test.$cmd", R"({"dropIndexes": "d", "index": "a_1"})"),
      command(8, "test.$cmd", R"({"drop": "d"})"),
      command(9, "test.$cmd", R"({"dropDatabase": 1})"),
  };
  const std::string transactions[] = {
      transaction(10, 7, R"(, "partialTxn": true)"),
      entry(11, R"("op": "i", "ns": "test.c", "o": {"_id": 100})"),
      transaction(12, 7, R"(, "count": {"$numberLong": "2"})"),
      transaction(20, 1, R"(, "prepare": true)"),
      entry(21, R"("op": "c", "ns": "admin.$cmd", "lsid": )" + std::string(kLsid) +
                    R"(, "txnNumber": {"$numberLong": "1"}, "o": {"commitTransaction": 1, "commitTimestamp": )" + ts(20) + "}"),
      command(22, "admin.$cmd", R"({"applyOps": [{"op": "i", "ns": "test.e", "o": {"_id": 1}},
                                                 {"op": "c", "ns": "test.$cmd", "o": {"create": "f"}}]})"),
  };
  const auto stream = [](std::span<const std::string> entries) {
    Bytes out;
    for (const std::string& json : entries) append(out, mongo::Bson::from_json(json).bytes());
    return out;
  };
  write("oplog_replay", "crud.bson", stream(crud));
  write("oplog_replay", "ddl.bson", stream(ddl));
  write("oplog_replay", "transactions.bson", stream(transactions));
}

void manifests() {
  catalog::Manifest manifest;
  manifest.id = "2026-11-25T22-10-00Z";
  manifest.topology = "sharded";
  manifest.started_at = "2026-11-25T22:10:00Z";
  manifest.finished_at = "2026-11-25T22:12:30Z";
  manifest.consistency_point = {1764108750, 12};
  manifest.compression = storage::Compression::kZstd;
  manifest.tool_version = "0.1.0";
  catalog::ReplicaSetBackup set{.name = "rs0", .shard = "shard0", .source_host = "127.0.0.1:27018",
                                .server_version = "7.0.14", .start_optime = {1764108600, 1},
                                .end_optime = {1764108750, 12}};
  catalog::CollectionEntry collection{.db = "shop", .name = "orders \"q\" \xC3\xA9"};
  collection.data = {"backups/x/rs0/shop/orders.bson", {{"backups/x/rs0/shop/orders.bson.zst.000", 512, std::string(64, 'a')},
                                                        {"backups/x/rs0/shop/orders.bson.zst.001", 7, std::string(64, 'b')}},
                     4096, storage::Compression::kZstd, ""};
  collection.metadata = {"backups/x/rs0/shop/orders.metadata.json", {{"backups/x/rs0/shop/orders.metadata.json", 90,
                                                                       std::string(64, 'c')}}, 90, storage::Compression::kNone, ""};
  collection.documents = 18446744073709551615ull;
  set.collections = {collection};
  set.oplog = {"backups/x/rs0/oplog.bson", {{"backups/x/rs0/oplog.bson.gz", 55, std::string(64, 'd')}}, 300,
               storage::Compression::kGzip, "k1"};
  set.oplog_entries = 19;
  manifest.replica_sets = {set};
  write("manifest_json", "sharded.json", catalog::manifest_to_json(manifest));
  manifest.topology = "replset";
  manifest.replica_sets[0].shard = "";
  manifest.replica_sets[0].collections.clear();
  write("manifest_json", "empty_replset.json", catalog::manifest_to_json(manifest));
}

void job_statuses() {
  write("job_status_json", "running.json",
        R"({"id": "2026-12-04T15-26-14Z.shard0.backup", "kind": "backup", "state": "running", "phase": "dump",
 "bytes": 1048576, "bytes_total": 8388608, "documents": 2048, "units_done": 1, "units_total": 4,
 "result": {}, "started_at": "2026-12-04T15:26:14Z", "updated_at": "2026-12-04T15:26:15Z",
 "heartbeat_ms": 1796397975000})");
  write("job_status_json", "failed.json",
        R"({"id": "x.rs0.restore", "kind": "restore", "state": "failed", "phase": "replay", "bytes": 0,
 "bytes_total": 0, "documents": 0, "units_done": 0, "units_total": 0, "result": {"replica_set": "rs0"},
 "started_at": "2026-12-04T15:26:14Z", "updated_at": "2026-12-04T15:26:15Z", "heartbeat_ms": 0,
 "error": {"code": "storage", "message": "s3 GET \"k\": HTTP 503"}})");
}

void metadata_files() {
  write("metadata_json", "collection.json", kOrdersMetadata);
  write("metadata_json", "view.json", kViewMetadata);
  write("metadata_json", "capped.json",
        R"({"options":{"capped":true,"size":{"$numberLong":"4096"}},"indexes":[],"collectionName":"log"})");
  write("metadata_json", "legacy.json",
        R"({"options":{},"indexes":[{"v":2,"key":{"_id":1},"name":"_id_","ns":"test.foo"}],"collectionName":"foo"})");
}

void s3_answers() {
  write("s3_xml", "list.xml", R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix/><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>a &amp; b/&lt;c&gt; &#233;&#x4e2d;</Key><Size>10</Size><LastModified>2026-11-25T22:10:00.000Z</LastModified></Contents>
  <Contents><Key><![CDATA[raw <key>]]></Key><Size>0</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)");
  write("s3_xml", "error.xml", "<?xml version=\"1.0\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce</Message></Error>");
  write("s3_xml", "delete.xml", R"(<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code><Message>no</Message></Error>
<Error><Key>c</Key><Code>NoSuchKey</Code></Error></DeleteResult>)");
  write("s3_xml", "multipart.xml", R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>)");
}

struct Seed {
  std::string_view name;
  std::string_view text;
};

void write_seeds(const std::string& target, std::initializer_list<Seed> seeds) {
  for (const auto& [name, text] : seeds) write(target, std::string(name), text);
}

// The forms restore --to-time documents, and near misses its errors name.
void time_points() {
  write_seeds("time_point", {{"iso.txt", "2026-12-04T18:30:00Z"},
                             {"iso_offset.txt", "2026-12-04T18:30:00+00:00"},
                             {"iso_fraction.txt", "2026-12-04T18:30:00.5Z"},
                             {"leap_day.txt", "2028-02-29T00:00:00Z"},
                             {"seconds_increment.txt", "1733337000.5"},
                             {"seconds.txt", "4294967295"},
                             {"shell.txt", "Timestamp(1733337000, 5)"}});
}

// The units the size parser takes, durations, and plain numbers at their limits.
void numbers() {
  write_seeds("numbers", {{"bytes.txt", "1048576"},
                          {"mib.txt", "512MiB"},
                          {"gb.txt", "1gb"},
                          {"tib.txt", "16777215TiB"},
                          {"duration.txt", "30d"},
                          {"max.txt", "18446744073709551615"}});
}

sandbox::Doc doc(std::string_view json) {
  const mongo::Bson bson = mongo::Bson::from_json(json);
  return sandbox::Doc::from_bytes(bson.bytes().data(), bson.bytes().size());
}

void store_i32(Bytes& out, std::size_t at, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value >> (8 * i));
}

void wire_messages() {
  write("wire", "op_msg_hello.bin", sandbox::encode_op_msg(1, doc(R"({"hello": 1, "$db": "admin"})")));
  // OP_MSG with a kind-1 document sequence and a CRC-32C, as drivers send inserts.
  Bytes insert(20, 0);
  store_i32(insert, 12, sandbox::kOpMsg);
  store_i32(insert, 16, 1);  // checksumPresent
  insert.push_back(0);
  append(insert, mongo::Bson::from_json(R"({"insert": "c", "$db": "test", "$readPreference": {"mode": "secondary"}})").bytes());
  const Bytes docs = documents({R"({"_id": 1})", R"({"_id": 2})"});
  insert.push_back(1);
  const std::size_t size_at = insert.size();
  insert.resize(insert.size() + 4);
  append(insert, storage::as_bytes(std::string_view("documents\0", 10)));
  append(insert, docs);
  store_i32(insert, size_at, static_cast<std::uint32_t>(insert.size() - size_at));
  insert.resize(insert.size() + 4);
  store_i32(insert, 0, static_cast<std::uint32_t>(insert.size()));
  store_i32(insert, insert.size() - 4, sandbox::crc32c(insert.data(), insert.size() - 4));
  write("wire", "op_msg_sequence_checksum.bin", insert);
  // Legacy OP_QUERY on admin.$cmd, wrapped with a read preference, and the same OP_MSG compressed.
  Bytes query(20, 0);
  store_i32(query, 12, sandbox::kOpQuery);
  store_i32(query, 16, 4);  // SecondaryOk
  append(query, storage::as_bytes(std::string_view("admin.$cmd\0\0\0\0\0\xff\xff\xff\xff", 19)));
  append(query, mongo::Bson::from_json(R"({"$query": {"isMaster": 1}, "$readPreference": {"mode": "nearest"}})").bytes());
  store_i32(query, 0, static_cast<std::uint32_t>(query.size()));
  write("wire", "op_query_is_master.bin", query);
  sandbox::Request compressed;
  compressed.compressor = sandbox::kCompressorZlib;
  write("wire", "op_compressed_zlib.bin", sandbox::encode_reply(compressed, doc(R"({"ping": 1, "$db": "admin"})"), 3));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seed_corpus <corpus directory>\n";
    return 2;
  }
  root = argv[1];
  archives();
  bson_streams();
  oplogs();
  manifests();
  job_statuses();
  metadata_files();
  s3_answers();
  wire_messages();
  time_points();
  numbers();
}

#include "dump/archive.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"
#include "mongo/bson.h"
#include "storage/compress.h"

namespace shardsafe::dump {
namespace {

using Bytes = std::vector<std::uint8_t>;

class VectorSink : public storage::Sink {
 public:
  void write(std::span<const std::uint8_t> bytes) override { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }
  void finish() override { finished_ = true; }
  Bytes bytes_;
  bool finished_ = false;
};

class VectorSource : public storage::Source {
 public:
  explicit VectorSource(Bytes bytes) : bytes_(std::move(bytes)) {}
  std::size_t read(std::span<std::uint8_t> buffer) override {
    const std::size_t n = std::min<std::size_t>({buffer.size(), bytes_.size() - position_, 5000});
    std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(position_), n, buffer.begin());
    position_ += n;
    return n;
  }

 private:
  Bytes bytes_;
  std::size_t position_ = 0;
};

// Records everything the reader reports as text, in order.
class Recorder : public ArchiveHandler {
 public:
  void on_header(const ArchiveHeader& header) override {
    events.push_back("header " + std::to_string(header.concurrent_collections) + " " + header.version + " " +
                     header.server_version + " " + header.tool_version);
  }
  void on_collection(const ArchiveCollection& c) override {
    events.push_back("collection " + c.db + "." + c.collection + " type=" + c.type + " metadata=" + c.metadata);
  }
  void on_document(const std::string& db, const std::string& collection, std::span<const std::uint8_t> document) override {
    events.push_back("doc " + db + "." + collection + " " + mongo::Bson::from_bytes(document).canonical_json());
  }
  void on_namespace_end(const std::string& db, const std::string& collection) override {
    events.push_back("end " + db + "." + collection);
  }
  std::vector<std::string> events;
};

mongo::Bson doc(int i) { return mongo::BsonBuilder().append("_id", i).append("s", std::string(static_cast<std::size_t>(i), 'x')).build(); }

void append(Bytes& out, std::span<const std::uint8_t> bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }
void append(Bytes& out, const mongo::Bson& document) { append(out, document.bytes()); }
const Bytes kTerminator = {0xFF, 0xFF, 0xFF, 0xFF};

ArchiveHeader header() {
  ArchiveHeader h;
  h.server_version = "7.0.14";
  h.tool_version = "shardsafe 0.1.0";
  return h;
}

mongo::Bson ns_header(const std::string& db, const std::string& collection, bool eof, std::int64_t crc) {
  return mongo::BsonBuilder().append("db", db).append("collection", collection).append("EOF", eof).append("CRC", crc).build();
}

TEST(Crc64, MatchesGoCrc64Ecma) {
  const std::string check = "123456789";
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(check.data()), check.size());
  EXPECT_EQ(crc64_update(0, bytes), 0x995DC9BBDF1939FAull);
  EXPECT_EQ(crc64_update(crc64_update(0, bytes.first(4)), bytes.subspan(4)), 0x995DC9BBDF1939FAull);
  EXPECT_EQ(crc64_update(0, {}), 0u);
}

TEST(Crc64, MatchesTheCrcOfMongorestoreTestdata) {
  // mongorestore/testdata/dump-w-oplog.archive (mongodump 4.0.2) ends admin.system.version, whose
  // one document is this, with CRC 914493570479648269 (mongo-reference.md section 2).
  const auto fcv = mongo::BsonBuilder().append("_id", "featureCompatibilityVersion").append("version", "4.0").build();
  EXPECT_EQ(static_cast<std::int64_t>(crc64_update(0, fcv.bytes())), 914493570479648269);
}

TEST(ArchiveWriter, ProducesTheDocumentedByteLayout) {
  VectorSink sink;
  ArchiveWriter writer(sink, header(), {{"test", "foo", "{\"indexes\":[]}", ""}, archive_oplog_entry()});
  writer.write_document("test", "foo", doc(1).bytes());
  writer.write_document("", "oplog", doc(2).bytes());
  writer.write_document("test", "foo", doc(3).bytes());
  writer.finish();
  EXPECT_TRUE(sink.finished_);

  // Built by hand from the format description in mongo-reference.md section 2.
  Bytes expected = {0x6D, 0xE2, 0x99, 0x81};
  append(expected, mongo::BsonBuilder()
                       .append("concurrent_collections", 4)
                       .append("version", "0.1")
                       .append("server_version", "7.0.14")
                       .append("tool_version", "shardsafe 0.1.0")
                       .build());
  append(expected, mongo::BsonBuilder()
                       .append("db", "test")
                       .append("collection", "foo")
                       .append("metadata", "{\"indexes\":[]}")
                       .append("size", 0)
                       .append("type", "")
                       .build());
  append(expected, mongo::BsonBuilder().append("db", "").append("collection", "oplog").append("metadata", "").append("size", 0).append("type", "").build());
  append(expected, kTerminator);
  append(expected, ns_header("test", "foo", false, 0));
  append(expected, doc(1));
  append(expected, kTerminator);
  append(expected, ns_header("", "oplog", false, 0));
  append(expected, doc(2));
  append(expected, kTerminator);
  append(expected, ns_header("test", "foo", false, 0));
  append(expected, doc(3));
  append(expected, kTerminator);
  const auto foo_crc = crc64_update(crc64_update(0, doc(1).bytes()), doc(3).bytes());
  append(expected, ns_header("test", "foo", true, static_cast<std::int64_t>(foo_crc)));
  append(expected, kTerminator);
  append(expected, ns_header("", "oplog", true, static_cast<std::int64_t>(crc64_update(0, doc(2).bytes()))));
  append(expected, kTerminator);
  EXPECT_EQ(sink.bytes_, expected);
}

Bytes sample_archive(storage::Sink* wrap = nullptr) {
  VectorSink sink;
  storage::Sink& target = wrap ? *wrap : sink;
  ArchiveWriter writer(target, header(),
                       {{"shop", "orders", "{\"m\":1}", ""},
                        {"shop", "v", "{\"options\":{\"viewOn\":\"orders\"}}", "view"},
                        {"iot", "temps", "{}", "timeseries"},
                        archive_oplog_entry()});
  writer.write_document("shop", "orders", doc(1).bytes());
  writer.write_document("iot", "system.buckets.temps", doc(2).bytes());
  writer.write_document("shop", "orders", doc(3).bytes());
  writer.end_namespace("shop", "orders");
  writer.write_document("", "oplog", doc(4).bytes());
  writer.finish();
  return sink.bytes_;
}

const std::vector<std::string> kSampleEvents = {
    "header 4 0.1 7.0.14 shardsafe 0.1.0",
    "collection shop.orders type= metadata={\"m\":1}",
    "collection shop.v type=view metadata={\"options\":{\"viewOn\":\"orders\"}}",
    "collection iot.temps type=timeseries metadata={}",
    "collection .oplog type= metadata=",
    "doc shop.orders " + doc(1).canonical_json(),
    "doc iot.system.buckets.temps " + doc(2).canonical_json(),
    "doc shop.orders " + doc(3).canonical_json(),
    "end shop.orders",
    "doc .oplog " + doc(4).canonical_json(),
    "end shop.v",
    "end iot.system.buckets.temps",
    "end .oplog",
};

TEST(ArchiveReader, ReadsBackWhatTheWriterWrote) {
  VectorSource source(sample_archive());
  Recorder recorder;
  read_archive(source, "a.archive", recorder);
  EXPECT_EQ(recorder.events, kSampleEvents);
}

TEST(ArchiveReader, DetectsAndReadsAGzippedArchive) {
  VectorSink compressed;
  auto gzip = storage::make_compress_sink(storage::Compression::kGzip, 6, 0, compressed);
  const Bytes plain = sample_archive(gzip.get());
  ASSERT_TRUE(plain.empty());  // everything went through gzip
  ASSERT_GE(compressed.bytes_.size(), 2u);
  EXPECT_EQ(compressed.bytes_[0], 0x1F);
  VectorSource source(compressed.bytes_);
  Recorder recorder;
  read_archive(source, "a.archive.gz", recorder);
  EXPECT_EQ(recorder.events, kSampleEvents);
}

void expect_read_error(const Bytes& bytes, ErrorCode code, const std::string& fragment) {
  VectorSource source(bytes);
  Recorder recorder;
  try {
    read_archive(source, "x.archive", recorder);
    FAIL() << "expected an error with " << fragment;
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), code) << error.what();
    const std::string message = error.what();
    EXPECT_NE(message.find("x.archive"), std::string::npos) << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

// Where doc(3) starts in the sample archive. The Bson is held while its bytes are searched
// for: bytes() of the temporary doc(3) would dangle.
std::size_t offset_of_third_document(const Bytes& archive) {
  const mongo::Bson third = doc(3);
  const auto one = third.bytes();
  const auto at = std::search(archive.begin(), archive.end(), one.begin(), one.end());
  EXPECT_NE(at, archive.end());
  return static_cast<std::size_t>(at - archive.begin());
}

TEST(ArchiveReader, AFlippedDocumentByteIsACrcMismatchNamingTheNamespace) {
  Bytes bytes = sample_archive();
  bytes.at(offset_of_third_document(bytes) + 12) ^= 0x01;  // inside the string value: still a valid document
  expect_read_error(bytes, ErrorCode::kChecksumMismatch, "\"shop.orders\"");
}

TEST(ArchiveReader, TruncationIsCorruptData) {
  const Bytes bytes = sample_archive();
  for (const std::size_t cut : {bytes.size() - 4, bytes.size() - 30, bytes.size() / 2, std::size_t{3}, std::size_t{20}}) {
    VectorSource source(Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)));
    Recorder recorder;
    try {
      read_archive(source, "x.archive", recorder);
      ADD_FAILURE() << "cut at " << cut << " was accepted";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kCorruptData) << cut << ": " << error.what();
    }
  }
}

// Offsets in errors are the file's: the magic before the first BSON block counts (they were
// 4 bytes short when the document reader itself refused the bytes).
TEST(ArchiveReader, ATruncatedDocumentIsRefusedAtItsOffsetInTheFile) {
  Bytes bytes = sample_archive();
  const std::size_t offset = offset_of_third_document(bytes);
  bytes.resize(offset + 6);
  expect_read_error(bytes, ErrorCode::kCorruptData, "at byte " + std::to_string(offset) + ": the stream ends inside a document");

  Bytes bad_length = sample_archive();
  std::fill_n(bad_length.begin() + static_cast<std::ptrdiff_t>(offset), 4, std::uint8_t{0xFE});  // no document's length
  expect_read_error(bad_length, ErrorCode::kCorruptData, "at byte " + std::to_string(offset) + ": invalid document length");
}

TEST(ArchiveReader, RejectsBadMagicDoubleTerminatorsAndUnknownNamespaces) {
  Bytes not_archive = sample_archive();
  not_archive[0] = 0x00;
  expect_read_error(not_archive, ErrorCode::kCorruptData, "not a mongodump archive");

  Bytes prelude = {0x6D, 0xE2, 0x99, 0x81};
  append(prelude, mongo::BsonBuilder().append("concurrent_collections", 1).append("version", "0.1").build());
  append(prelude, mongo::BsonBuilder().append("db", "a").append("collection", "b").append("metadata", "").build());
  append(prelude, kTerminator);

  Bytes doubled = prelude;
  append(doubled, kTerminator);
  expect_read_error(doubled, ErrorCode::kCorruptData, "two terminators in a row");

  Bytes unknown = prelude;
  append(unknown, ns_header("a", "zzz", false, 0));
  append(unknown, doc(1));
  append(unknown, kTerminator);
  expect_read_error(unknown, ErrorCode::kCorruptData, "\"a.zzz\" is not in the archive's collection list");
}

TEST(ArchiveWriter, RefusesNamespacesItDidNotAnnounce) {
  VectorSink sink;
  ArchiveWriter writer(sink, header(), {{"a", "b", "", ""}});
  EXPECT_THROW(writer.write_document("a", "c", doc(1).bytes()), Error);
  writer.end_namespace("a", "b");
  EXPECT_THROW(writer.write_document("a", "b", doc(1).bytes()), Error);
}

}  // namespace
}  // namespace shardsafe::dump

#include <gtest/gtest.h>

#include "common/error.h"
#include "mongo/bson.h"
#include "oplog/document_reader.h"
#include "oplog/memory_streams.h"

namespace shardsafe::oplog {
namespace {

using testing::ChunkedSource;

std::vector<std::uint8_t> concatenated(const std::vector<std::string>& jsons) {
  std::vector<std::uint8_t> out;
  for (const auto& json : jsons) {
    const auto doc = mongo::Bson::from_json(json);
    out.insert(out.end(), doc.bytes().begin(), doc.bytes().end());
  }
  return out;
}

TEST(DocumentReaderTest, SplitsAStreamIntoDocumentsAcrossShortReads) {
  ChunkedSource source(concatenated({R"({"a": 1})", R"({"b": "two"})", "{}"}), 3);
  DocumentReader reader(source, "oplog.bson");
  std::vector<std::string> seen;
  while (const auto doc = reader.next()) seen.push_back(mongo::Bson::from_bytes(*doc).relaxed_json());
  EXPECT_EQ(seen, (std::vector<std::string>{R"({ "a" : 1 })", R"({ "b" : "two" })", "{ }"}));
}

TEST(DocumentReaderTest, TruncatedStreamIsCorruptDataNamingTheStreamAndOffset) {
  auto bytes = concatenated({R"({"a": 1})", R"({"b": 2})"});
  bytes.pop_back();
  ChunkedSource source(bytes, 1000);
  DocumentReader reader(source, "rs0/oplog.bson");
  ASSERT_TRUE(reader.next().has_value());
  try {
    reader.next();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptData);
    EXPECT_STREQ(e.what(), "corrupt oplog stream \"rs0/oplog.bson\" at byte 12: the stream ends inside a document of 12 bytes");
  }
}

TEST(DocumentReaderTest, ImpossibleLengthsAreCorruptData) {
  ChunkedSource tiny({4, 0, 0, 0, 0}, 10);
  EXPECT_THROW(DocumentReader(tiny, "x").next(), Error);
  ChunkedSource huge({0xff, 0xff, 0xff, 0x7f, 0}, 10);
  EXPECT_THROW(DocumentReader(huge, "x").next(), Error);
  ChunkedSource partial_length({12, 0}, 10);
  EXPECT_THROW(DocumentReader(partial_length, "x").next(), Error);
}

}  // namespace
}  // namespace shardsafe::oplog

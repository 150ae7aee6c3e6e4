#include "storage/bson_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.h"
#include "mongo/bson.h"

namespace shardsafe::storage {
namespace {

// Hands out at most `chunk` bytes per read, so documents straddle reads.
class ChunkedSource : public Source {
 public:
  ChunkedSource(std::vector<std::uint8_t> bytes, std::size_t chunk) : bytes_(std::move(bytes)), chunk_(chunk) {}
  std::size_t read(std::span<std::uint8_t> buffer) override {
    const std::size_t n = std::min({buffer.size(), chunk_, bytes_.size() - position_});
    std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(position_), n, buffer.begin());
    position_ += n;
    return n;
  }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t chunk_;
  std::size_t position_ = 0;
};

mongo::Bson numbered(int i, std::size_t padding = 0) {
  return mongo::BsonBuilder().append("_id", i).append("pad", std::string(padding, 'p')).build();
}

std::vector<std::uint8_t> concat(const std::vector<mongo::Bson>& documents) {
  std::vector<std::uint8_t> out;
  for (const auto& document : documents) out.insert(out.end(), document.bytes().begin(), document.bytes().end());
  return out;
}

std::vector<mongo::Bson> read_all(BsonStreamReader& reader) {
  std::vector<mongo::Bson> out;
  while (auto document = reader.next()) out.push_back(mongo::Bson::from_bytes(*document));
  return out;
}

void expect_corrupt(std::vector<std::uint8_t> bytes, const std::string& fragment) {
  ChunkedSource source(std::move(bytes), 7);
  BsonStreamReader reader(source, "db/c.bson", 64);
  try {
    read_all(reader);
    FAIL() << "expected kCorruptData with " << fragment;
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
    const std::string message = error.what();
    EXPECT_NE(message.find("\"db/c.bson\""), std::string::npos) << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

TEST(BsonStreamReader, SplitsDocumentsAcrossShortReads) {
  std::vector<mongo::Bson> documents;
  for (int i = 0; i < 50; ++i) documents.push_back(numbered(i, static_cast<std::size_t>(i * 3)));
  const auto bytes = concat(documents);
  for (const std::size_t chunk : {1u, 3u, 100u, 100000u}) {
    ChunkedSource source(bytes, chunk);
    BsonStreamReader reader(source, "s", 64);  // smaller than most documents: forces growth
    const auto got = read_all(reader);
    ASSERT_EQ(got.size(), documents.size()) << chunk;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].canonical_json(), documents[i].canonical_json());
    }
    EXPECT_EQ(reader.documents_read(), 50u);
    EXPECT_EQ(reader.offset(), bytes.size());
  }
}

TEST(BsonStreamReader, EmptyStreamHasNoDocuments) {
  ChunkedSource source({}, 10);
  BsonStreamReader reader(source, "empty");
  EXPECT_FALSE(reader.next().has_value());
  EXPECT_FALSE(reader.next().has_value());
}

TEST(BsonStreamReader, ReadsADocumentOfTheMaximumSize) {
  // A document of exactly kMaxDocumentSize bytes: header + one string field.
  const std::size_t overhead = mongo::BsonBuilder().append("s", std::string()).build().bytes().size();
  const auto big = mongo::BsonBuilder().append("s", std::string(kMaxDocumentSize - overhead, 'x')).build();
  ASSERT_EQ(big.bytes().size(), kMaxDocumentSize);
  ChunkedSource source(concat({numbered(1), big, numbered(2)}), 1 << 20);
  BsonStreamReader reader(source, "big", 1024);
  EXPECT_EQ(read_all(reader).size(), 3u);
}

TEST(BsonStreamReader, TruncatedLastDocumentIsCorruptData) {
  auto bytes = concat({numbered(1), numbered(2, 40)});
  bytes.resize(bytes.size() - 5);
  expect_corrupt(bytes, "truncated");
}

TEST(BsonStreamReader, TruncatedLengthIsCorruptData) {
  auto bytes = concat({numbered(1)});
  bytes.push_back(0x10);
  bytes.push_back(0x00);
  expect_corrupt(bytes, "trailing bytes");
}

TEST(BsonStreamReader, LengthsOutOfRangeAreCorruptData) {
  expect_corrupt({4, 0, 0, 0, 0}, "invalid document length 4");
  auto too_big = concat({numbered(1)});
  const std::uint32_t length = kMaxDocumentSize + 1;
  too_big.insert(too_big.end(), {static_cast<std::uint8_t>(length), static_cast<std::uint8_t>(length >> 8),
                                 static_cast<std::uint8_t>(length >> 16), static_cast<std::uint8_t>(length >> 24)});
  expect_corrupt(too_big, "invalid document length " + std::to_string(length));
}

TEST(BsonStreamReader, MissingTerminatorIsCorruptData) {
  auto bytes = concat({numbered(1)});
  bytes.back() = 0x01;
  expect_corrupt(bytes, "does not end in 0x00");
}

TEST(BsonStreamReader, ErrorNamesTheOffsetOfTheBadDocument) {
  const auto first = numbered(1);
  auto bytes = concat({first, numbered(2)});
  bytes.back() = 0x01;
  expect_corrupt(bytes, "at byte " + std::to_string(first.bytes().size()));
}

}  // namespace
}  // namespace shardsafe::storage

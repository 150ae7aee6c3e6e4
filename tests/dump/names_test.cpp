#include "dump/names.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace shardsafe::dump {
namespace {

TEST(QueryEscape, MatchesGoUrlQueryEscape) {
  // Expected strings computed with Python's quote_plus(safe="~"), which implements the same
  // rule as Go's url.QueryEscape.
  EXPECT_EQ(query_escape("a b$c/d~\xC3\xA9*+&=?"), "a+b%24c%2Fd~%C3%A9%2A%2B%26%3D%3F");
  EXPECT_EQ(query_escape("plain-Name_1.2"), "plain-Name_1.2");
  EXPECT_EQ(query_escape(std::string("\x00\x7F", 2)), "%00%7F");
  EXPECT_EQ(query_escape(""), "");
}

TEST(QueryEscape, UnescapeIsTheInverse) {
  for (const std::string raw : {"a b$c/d~\xC3\xA9*+&=?", "x.y", "%", "+"}) {
    EXPECT_EQ(query_unescape(query_escape(raw)), raw);
  }
  EXPECT_EQ(query_unescape("a%2fb+c"), "a/b c");  // lowercase hex is accepted, as in Go
}

TEST(QueryEscape, UnescapeRejectsBrokenEscapes) {
  for (const std::string bad : {"abc%", "abc%2", "abc%zz", "%G0"}) {
    try {
      query_unescape(bad);
      FAIL() << bad;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(error.what()).find(bad), std::string::npos);
    }
  }
}

TEST(DumpFileStem, LongNamesAreTruncatedWithAHashOfTheRawName) {
  const std::string name = std::string(150, 'x') + std::string(40, '/');  // escapes to 270 bytes
  // Computed independently: escaped[:208] + "%24" + base64url-nopad(sha1(name)).
  const std::string expected = std::string(150, 'x') + [] {
    std::string s;
    for (int i = 0; i < 19; ++i) s += "%2F";
    return s;
  }() + "%" + "%24" + "2iKh7FeCJl9jtcjLwYBp-eelBmI";
  EXPECT_EQ(dump_file_stem(name), expected);
  EXPECT_EQ(expected.size(), 238u);
}

TEST(DumpFileStem, NamesUpTo238EscapedBytesAreKept) {
  const std::string at_limit(238, 'a');
  EXPECT_EQ(dump_file_stem(at_limit), at_limit);
  const std::string over(239, 'a');
  const std::string stem = dump_file_stem(over);
  EXPECT_EQ(stem.substr(0, 211), std::string(208, 'a') + "%24");
  EXPECT_EQ(stem.size(), 208u + 3u + 27u);
}

TEST(Keys, CollectionFilesLiveUnderTheirDatabase) {
  EXPECT_EQ(collection_data_key("backups/x/rs0/", "shop", "orders"), "backups/x/rs0/shop/orders.bson");
  EXPECT_EQ(collection_metadata_key("", "shop", "a/b c"), "shop/a%2Fb+c.metadata.json");
  EXPECT_EQ(oplog_key("backups/x/rs0/"), "backups/x/rs0/oplog.bson");
}

TEST(ParseDumpFile, RecognisesDataAndMetadataFiles) {
  auto data = parse_dump_file("shop/a%2Fb+c.bson.gz");
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(data->db, "shop");
  EXPECT_EQ(data->collection, "a/b c");
  EXPECT_EQ(data->kind, DumpFile::Kind::kData);
  EXPECT_EQ(data->compression_suffix, ".gz");

  auto metadata = parse_dump_file("shop/orders.v1.metadata.json");
  ASSERT_TRUE(metadata.has_value());
  EXPECT_EQ(metadata->collection, "orders.v1");
  EXPECT_EQ(metadata->kind, DumpFile::Kind::kMetadata);
  EXPECT_EQ(metadata->compression_suffix, "");

  auto zstd = parse_dump_file("db/c.bson.zst");
  ASSERT_TRUE(zstd.has_value());
  EXPECT_EQ(zstd->compression_suffix, ".zst");
}

TEST(ParseDumpFile, SkipsEverythingElse) {
  for (const std::string other : {"oplog.bson", "prelude.json", "db/sub/c.bson", "db/c.txt", "db/.bson",
                                  "/c.bson", "db/bad%zz.bson"}) {
    EXPECT_FALSE(parse_dump_file(other).has_value()) << other;
  }
}

}  // namespace
}  // namespace shardsafe::dump

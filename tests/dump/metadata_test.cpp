#include "dump/metadata.h"

#include <gtest/gtest.h>

#include <array>

#include "common/error.h"

namespace shardsafe::dump {
namespace {

mongo::Bson id_index() {
  return mongo::BsonBuilder()
      .append("v", 2)
      .append("key", mongo::BsonBuilder().append("_id", 1).build())
      .append("name", "_id_")
      .build();
}

mongo::Bson list_collections_entry(const std::string& name, const std::string& type, const mongo::Bson& options) {
  constexpr std::array<std::uint8_t, 16> uuid = {0xff, 0xa7, 0x05, 0x4f, 0x30, 0xdc, 0x42, 0x26,
                                                 0x96, 0xfa, 0x96, 0x07, 0xe1, 0x50, 0xcb, 0x53};
  mongo::Bson info = mongo::BsonBuilder().append("readOnly", false).build();
  bson_append_binary(info.get(), "uuid", -1, BSON_SUBTYPE_UUID, uuid.data(), uuid.size());
  return mongo::BsonBuilder()
      .append("name", name)
      .append("type", type)
      .append("options", options)
      .append("info", info)
      .append("idIndex", id_index())
      .build();
}

TEST(Metadata, MatchesMongodumpByteForByte) {
  // The real metadata.json quoted in mongo-reference.md section 1.
  const auto metadata = metadata_from_list_collections(list_collections_entry("coll1", "collection", {}), {id_index()});
  EXPECT_EQ(to_metadata_json(metadata),
            R"({"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],)"
            R"("uuid":"ffa7054f30dc422696fa9607e150cb53","collectionName":"coll1","type":"collection"})");
}

TEST(Metadata, ViewsCarryViewOnAndPipelineAndNoIndexes) {
  const auto pipeline = mongo::Bson::from_json(R"({"0": {"$match": {"a": {"$gt": 1}}}})");
  mongo::Bson options = mongo::BsonBuilder().append("viewOn", "coll1").build();
  bson_append_array(options.get(), "pipeline", -1, pipeline.get());
  const auto metadata = metadata_from_list_collections(list_collections_entry("v", "view", options), {});
  EXPECT_EQ(to_metadata_json(metadata),
            R"({"options":{"viewOn":"coll1","pipeline":[{"$match":{"a":{"$gt":{"$numberInt":"1"}}}}]},"indexes":[],)"
            R"("uuid":"ffa7054f30dc422696fa9607e150cb53","collectionName":"v","type":"view"})");
}

TEST(Metadata, CappedOptionsAndEntriesWithoutUuidOrType) {
  const auto options = mongo::BsonBuilder().append("capped", true).append("size", std::int64_t{4096}).build();
  const auto entry = mongo::BsonBuilder().append("name", "log").append("options", options).build();
  EXPECT_EQ(to_metadata_json(metadata_from_list_collections(entry, {})),
            R"({"options":{"capped":true,"size":{"$numberLong":"4096"}},"indexes":[],"collectionName":"log"})");
}

TEST(GoExtendedJson, DoublesAreFormattedLikeGo) {
  // Expected strings: Go's strconv.FormatFloat(f, 'G', -1, 64) plus ".0" when it has neither
  // '.' nor 'E' (the Go driver's formatDouble).
  const std::vector<std::pair<double, std::string>> cases = {
      {1.0, "1.0"},        {-0.0, "-0.0"},           {0.5, "0.5"},          {100000.0, "100000.0"},
      {1e6, "1E+06"},      {1234567.0, "1.234567E+06"}, {0.0001, "0.0001"},  {0.00001, "1E-05"},
      {1.5e300, "1.5E+300"}, {3.14159, "3.14159"},    {-2.5e-7, "-2.5E-07"}};
  for (const auto& [value, expected] : cases) {
    const auto document = mongo::BsonBuilder().append("d", value).build();
    EXPECT_EQ(go_canonical_extended_json(document), R"({"d":{"$numberDouble":")" + expected + R"("}})") << value;
  }
  const auto special = mongo::Bson::from_json(
      R"({"a":{"$numberDouble":"NaN"},"b":{"$numberDouble":"Infinity"},"c":{"$numberDouble":"-Infinity"}})");
  EXPECT_EQ(go_canonical_extended_json(special),
            R"({"a":{"$numberDouble":"NaN"},"b":{"$numberDouble":"Infinity"},"c":{"$numberDouble":"-Infinity"}})");
}

TEST(GoExtendedJson, StringsAreEscapedLikeGo) {
  const std::string text = std::string("q\"b\\n\nr\rt\tc\x01<>&\xC3\xA9\xE2\x80\xA8") + "\xFF";
  const auto document = mongo::BsonBuilder().append("s", text).build();
  EXPECT_EQ(go_canonical_extended_json(document),
            "{\"s\":\"q\\\"b\\\\n\\nr\\rt\\tc\\u0001<>&\xC3\xA9\\u2028\\ufffd\"}");
}

TEST(GoExtendedJson, EveryTypeRoundTripsThroughLibbson) {
  const std::string canonical =
      R"j({"oid":{"$oid":"5f0c1a2b3c4d5e6f70819203"},"date":{"$date":{"$numberLong":"1700000000123"}},)j"
      R"j("bin":{"$binary":{"base64":"AQID","subType":"80"}},"re":{"$regularExpression":{"pattern":"^a","options":"im"}},)j"
      R"j("ts":{"$timestamp":{"t":1700000000,"i":7}},"long":{"$numberLong":"-9"},"dec":{"$numberDecimal":"1.5E+3"},)j"
      R"j("min":{"$minKey":1},"max":{"$maxKey":1},"null":null,"t":true,"arr":[{"$numberInt":"1"},"x",[]],"doc":{},)j"
      R"j("code":{"$code":"f()"},"scope":{"$code":"g()","$scope":{"x":{"$numberInt":"1"}}},"sym":{"$symbol":"s"},)j"
      R"j("undef":{"$undefined":true},"ptr":{"$dbPointer":{"$ref":"db.c","$id":{"$oid":"5f0c1a2b3c4d5e6f70819203"}}}})j";
  EXPECT_EQ(go_canonical_extended_json(mongo::Bson::from_json(canonical)), canonical);
}

TEST(Metadata, RegexOptionsAreSortedLikeGo) {
  mongo::Bson document;
  bson_append_regex(document.get(), "r", -1, "x", "xmi");
  EXPECT_EQ(go_canonical_extended_json(document), R"({"r":{"$regularExpression":{"pattern":"x","options":"imx"}}})");
}

TEST(Metadata, ParsesWhatItWrites) {
  const auto options = mongo::BsonBuilder()
                           .append("validator", mongo::Bson::from_json(R"({"a": {"$type": "string"}})"))
                           .append("collation", mongo::Bson::from_json(R"({"locale": "fr", "strength": 2})"))
                           .build();
  const auto original = metadata_from_list_collections(list_collections_entry("c.d", "collection", options), {id_index()});
  const auto parsed = parse_metadata_json(to_metadata_json(original), "db/c.d.metadata.json");
  EXPECT_EQ(parsed.options.canonical_json(), original.options.canonical_json());
  ASSERT_EQ(parsed.indexes.size(), 1u);
  EXPECT_EQ(parsed.indexes[0].canonical_json(), id_index().canonical_json());
  EXPECT_EQ(parsed.uuid, "ffa7054f30dc422696fa9607e150cb53");
  EXPECT_EQ(parsed.collection_name, "c.d");
  EXPECT_EQ(parsed.type, "collection");
  EXPECT_EQ(to_metadata_json(parsed), to_metadata_json(original));
}

TEST(Metadata, ParsesRelaxedLegacyFiles) {
  // Old mongodump: relaxed numbers, "options":{}, no uuid, no type.
  const auto parsed = parse_metadata_json(
      R"({"options":{},"indexes":[{"v":2,"key":{"_id":1},"name":"_id_","ns":"test.foo"}],"collectionName":"foo"})", "x");
  EXPECT_TRUE(parsed.options.empty());
  ASSERT_EQ(parsed.indexes.size(), 1u);
  EXPECT_EQ(mongo::BsonView(parsed.indexes[0]).integer("v"), 2);
  EXPECT_EQ(parsed.uuid, "");
  EXPECT_EQ(parsed.type, "");
  EXPECT_EQ(parsed.collection_name, "foo");
}

TEST(Metadata, RejectsMalformedFilesNamingThem) {
  for (const std::string bad : {"{not json", R"({"indexes":{}})", R"({"options":5})", R"({"uuid":5})"}) {
    try {
      parse_metadata_json(bad, "shop/orders.metadata.json");
      FAIL() << bad;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
      EXPECT_NE(std::string(error.what()).find("\"shop/orders.metadata.json\""), std::string::npos) << error.what();
    }
  }
}

}  // namespace
}  // namespace shardsafe::dump

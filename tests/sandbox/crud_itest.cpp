// A one-member sandbox replica set driven by libmongoc: handshake fields, CRUD, cursors over
// several batches, indexes, catalog options, BSON fidelity and MongoDB's error shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "common/error.h"
#include "mongo/client.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using mongo::Bson;
using mongo::BsonView;
using testing::SandboxReplSet;

class SandboxCrud : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { set_ = new SandboxReplSet(SandboxReplSet::Options{}); }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }
  mongo::Client client() { return mongo::Client(mongo::Uri(set_->uri())); }
  static Bson json(std::string_view text) { return Bson::from_json(text); }
  static SandboxReplSet* set_;
};

SandboxReplSet* SandboxCrud::set_ = nullptr;

int server_code_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ServerError& error) {
    return error.server_code();
  }
  return 0;
}

TEST_F(SandboxCrud, HelloDescribesAPrimaryOfARealRelease) {
  auto c = client();
  Bson hello = c.command("admin", json(R"({"hello": 1})"));
  BsonView view(hello);
  EXPECT_EQ(view.boolean("isWritablePrimary"), true);
  EXPECT_EQ(view.string("setName"), "rs0");
  EXPECT_EQ(view.string("me"), set_->hosts()[0]);
  EXPECT_EQ(view.string("primary"), set_->hosts()[0]);
  EXPECT_EQ(view.strings("hosts"), set_->hosts());
  EXPECT_EQ(view.integer("maxWireVersion"), 21);
  EXPECT_EQ(view.integer("minWireVersion"), 0);
  EXPECT_EQ(view.integer("maxBsonObjectSize"), 16777216);
  EXPECT_EQ(view.integer("logicalSessionTimeoutMinutes"), 30);
  EXPECT_TRUE(view.has("electionId"));
  EXPECT_TRUE(view.has("lastWrite.opTime.ts"));
  EXPECT_FALSE(view.has("topologyVersion")) << "would switch drivers to streaming hello";
  EXPECT_FALSE(view.has("compression")) << "the client did not offer a compressor";
}

TEST_F(SandboxCrud, UnknownCommandsAndAtlasVersionFailLikeMongod) {
  auto c = client();
  EXPECT_EQ(server_code_of([&] { c.command("admin", json(R"({"noSuchThing": 1})")); }), 59);
  EXPECT_NE(server_code_of([&] { c.command("admin", json(R"({"atlasVersion": 1})")); }), 0);
  Bson info = c.command("admin", json(R"({"buildInfo": 1})"));
  EXPECT_EQ(BsonView(info).string("version"), "7.0.14");
}

TEST_F(SandboxCrud, FindReturnsEveryDocumentOverSeveralBatches) {
  auto c = client();
  std::vector<Bson> docs;
  for (int i = 0; i < 1000; ++i) docs.push_back(mongo::BsonBuilder().append("_id", i).append("even", i % 2 == 0).build());
  std::vector<std::span<const std::uint8_t>> raw;
  for (const Bson& doc : docs) raw.push_back(doc.bytes());
  EXPECT_EQ(c.insert_many("crud", "batches", raw, true).inserted, 1000);

  auto cursor = c.find("crud", "batches", json(R"({"even": true})"), json(R"({"sort": {"_id": -1}, "batchSize": 7})"));
  std::vector<std::int64_t> ids;
  while (const bson_t* doc = cursor.next()) ids.push_back(*BsonView(doc).integer("_id"));
  ASSERT_EQ(ids.size(), 500u);
  EXPECT_EQ(ids.front(), 998);
  EXPECT_EQ(ids.back(), 0);
  Bson count = c.command("crud", json(R"({"count": "batches", "query": {"_id": {"$gte": 900}}})"));
  EXPECT_EQ(BsonView(count).integer("n"), 100);
}

TEST_F(SandboxCrud, UpdatesUpsertsAndDeletesReportCounts) {
  auto c = client();
  c.command("crud", json(R"({"insert": "upd", "documents": [{"_id": 1, "n": 1}, {"_id": 2, "n": 2}, {"_id": 3, "n": 3}]})"));
  Bson multi = c.command("crud", json(R"({"update": "upd", "updates": [{"q": {"n": {"$gte": 2}}, "u": {"$inc": {"n": 10}}, "multi": true}]})"));
  EXPECT_EQ(BsonView(multi).integer("n"), 2);
  EXPECT_EQ(BsonView(multi).integer("nModified"), 2);
  Bson upsert = c.command("crud", json(R"({"update": "upd", "updates": [{"q": {"_id": 9}, "u": {"$set": {"n": 9}}, "upsert": true}]})"));
  EXPECT_EQ(BsonView(upsert).integer("upserted.0._id"), 9);
  Bson removed = c.command("crud", json(R"({"delete": "upd", "deletes": [{"q": {"n": {"$gt": 5}}, "limit": 0}]})"));
  EXPECT_EQ(BsonView(removed).integer("n"), 3);
  Bson modified = c.command("crud", json(R"({"findAndModify": "upd", "query": {"_id": 1}, "update": {"$set": {"x": "y"}}, "new": true})"));
  EXPECT_EQ(BsonView(modified).string("value.x"), "y");
}

TEST_F(SandboxCrud, UniqueIndexRejectsDuplicatesWithKeyPatternAndValue) {
  auto c = client();
  c.command("crud", json(R"({"createIndexes": "uniq", "indexes": [{"key": {"email": 1}, "name": "email_1", "unique": true}]})"));
  c.command("crud", json(R"({"insert": "uniq", "documents": [{"_id": 1, "email": "a@x"}]})"));
  Bson reply = c.command("crud", json(R"({"insert": "uniq", "ordered": false, "documents": [{"_id": 2, "email": "a@x"}, {"_id": 3, "email": "b@x"}]})"));
  BsonView view(reply);
  EXPECT_EQ(view.integer("n"), 1);
  EXPECT_EQ(view.integer("writeErrors.0.code"), 11000);
  EXPECT_EQ(view.integer("writeErrors.0.index"), 0);
  EXPECT_EQ(view.integer("writeErrors.0.keyPattern.email"), 1);
  EXPECT_EQ(view.string("writeErrors.0.keyValue.email"), "a@x");
}

TEST_F(SandboxCrud, CollectionOptionsAndIndexSpecsComeBackVerbatim) {
  auto c = client();
  c.command("crud", json(R"({"create": "capped", "capped": true, "size": 65536, "max": 10, "validator": {"a": {"$exists": true}}})"));
  c.command("crud", json(R"({"createIndexes": "capped", "indexes": [{"key": {"a": 1}, "name": "a_partial", "partialFilterExpression": {"a": {"$gt": 1}}, "sparse": true}]})"));
  auto listed = c.command_cursor("crud", json(R"({"listCollections": 1, "filter": {"name": "capped"}})"));
  const bson_t* info = listed.next();
  ASSERT_NE(info, nullptr);
  BsonView view(info);
  EXPECT_EQ(view.boolean("options.capped"), true);
  EXPECT_EQ(view.integer("options.size"), 65536);
  EXPECT_EQ(view.integer("options.max"), 10);
  EXPECT_TRUE(view.has("options.validator.a.$exists"));
  bson_iter_t uuid;
  ASSERT_TRUE(view.find("info.uuid", &uuid));
  bson_subtype_t subtype;
  std::uint32_t length;
  const std::uint8_t* bytes;
  bson_iter_binary(&uuid, &subtype, &length, &bytes);
  EXPECT_EQ(subtype, BSON_SUBTYPE_UUID);
  EXPECT_EQ(view.string("idIndex.name"), "_id_");

  auto indexes = c.command_cursor("crud", json(R"({"listIndexes": "capped"})"));
  std::vector<Bson> specs;
  while (const bson_t* spec = indexes.next()) specs.push_back(Bson::copy_of(spec));
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[1].relaxed_json(),
            R"({ "v" : 2, "key" : { "a" : 1 }, "name" : "a_partial", "partialFilterExpression" : { "a" : { "$gt" : 1 } }, "sparse" : true })");
  EXPECT_EQ(server_code_of([&] { c.command("crud", json(R"({"insert": "capped", "documents": [{"b": 1}]})")); }), 0)
      << "write errors are reported in the reply, not as a command error";
  Bson invalid = c.command("crud", json(R"({"insert": "capped", "documents": [{"b": 1}]})"));
  EXPECT_EQ(BsonView(invalid).integer("writeErrors.0.code"), 121);
}

TEST_F(SandboxCrud, RenameAcrossDatabasesKeepsDocumentsAndIndexes) {
  auto c = client();
  c.command("crud", json(R"({"insert": "from", "documents": [{"_id": 1}, {"_id": 2}]})"));
  c.command("crud", json(R"({"createIndexes": "from", "indexes": [{"key": {"z": 1}, "name": "z_1"}]})"));
  c.command("admin", json(R"({"renameCollection": "crud.from", "to": "other.to"})"));
  EXPECT_EQ(BsonView(c.command("other", json(R"({"count": "to"})"))).integer("n"), 2);
  EXPECT_EQ(BsonView(c.command("crud", json(R"({"count": "from"})"))).integer("n"), 0);
  EXPECT_EQ(server_code_of([&] { c.command("crud", json(R"({"listIndexes": "from"})")); }), 26);
  auto indexes = c.command_cursor("other", json(R"({"listIndexes": "to"})"));
  int count = 0;
  while (indexes.next()) ++count;
  EXPECT_EQ(count, 2);
}

// Every BSON type, including values whose bytes a careless server would normalise.
Bson every_type_document() {
  bson_t doc = BSON_INITIALIZER;
  BSON_APPEND_INT32(&doc, "_id", 1);
  BSON_APPEND_DOUBLE(&doc, "nan", std::nan("0x7ff8dead"));
  BSON_APPEND_DOUBLE(&doc, "negzero", -0.0);
  bson_decimal128_t decimal;
  bson_decimal128_from_string("1234.5678E-300", &decimal);
  BSON_APPEND_DECIMAL128(&doc, "dec", &decimal);
  BSON_APPEND_INT64(&doc, "long", INT64_MIN);
  BSON_APPEND_DATE_TIME(&doc, "date", -1);
  BSON_APPEND_TIMESTAMP(&doc, "ts", 7, 9);
  const std::uint8_t bytes[] = {0, 1, 2, 255};
  for (int subtype : {0, 1, 2, 3, 4, 5, 6, 7, 0x80}) {
    bson_append_binary(&doc, ("bin" + std::to_string(subtype)).c_str(), -1, static_cast<bson_subtype_t>(subtype), bytes, 4);
  }
  BSON_APPEND_REGEX(&doc, "re", "^a.*b$", "imx");
  BSON_APPEND_CODE(&doc, "code", "function() { return 1; }");
  bson_t scope = BSON_INITIALIZER;
  BSON_APPEND_INT32(&scope, "x", 1);
  BSON_APPEND_CODE_WITH_SCOPE(&doc, "cws", "function() { return x; }", &scope);
  bson_destroy(&scope);
  BSON_APPEND_SYMBOL(&doc, "sym", "symbol");
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, "0123456789abcdef01234567");
  BSON_APPEND_DBPOINTER(&doc, "dbp", "db.coll", &oid);
  BSON_APPEND_UNDEFINED(&doc, "undef");
  BSON_APPEND_MINKEY(&doc, "min");
  BSON_APPEND_MAXKEY(&doc, "max");
  BSON_APPEND_NULL(&doc, "null");
  bson_t array = BSON_INITIALIZER, inner = BSON_INITIALIZER;
  BSON_APPEND_INT32(&inner, "0", 1);
  BSON_APPEND_ARRAY(&array, "0", &inner);
  BSON_APPEND_UTF8(&array, "1", "x");
  BSON_APPEND_ARRAY(&doc, "nested", &array);
  bson_destroy(&inner);
  bson_destroy(&array);
  BSON_APPEND_UTF8(&doc, "z_last", "field order is kept");
  Bson result = Bson::copy_of(&doc);
  bson_destroy(&doc);
  return result;
}

TEST_F(SandboxCrud, EveryBsonTypeComesBackByteIdentical) {
  auto c = client();
  Bson original = every_type_document();
  c.insert_many("fidelity", "types", {original.bytes()}, true);
  auto cursor = c.find("fidelity", "types", json(R"({"_id": 1})"));
  const bson_t* back = cursor.next();
  ASSERT_NE(back, nullptr);
  ASSERT_EQ(back->len, original.get()->len);
  EXPECT_EQ(0, std::memcmp(bson_get_data(back), original.bytes().data(), back->len));
}

TEST_F(SandboxCrud, ApplyOpsAcceptsNullTermsAndV2Diffs) {
  auto c = client();
  c.command("crud", json(R"({"insert": "applied", "documents": [{"_id": 1, "a": 1, "b": {"c": 1}}]})"));
  Bson reply = c.command("admin", json(R"({"applyOps": [
      {"op": "u", "ns": "crud.applied", "o": {"$v": 2, "diff": {"u": {"a": 5}, "sb": {"i": {"d": 4}}}}, "o2": {"_id": 1}, "t": null, "v": 2},
      {"op": "i", "ns": "crud.applied", "o": {"_id": 2}, "t": null}]})"));
  EXPECT_EQ(BsonView(reply).integer("applied"), 2);
  auto cursor = c.find("crud", "applied", json(R"({"_id": 1})"));
  const bson_t* doc = cursor.next();
  ASSERT_NE(doc, nullptr);
  EXPECT_EQ(BsonView(doc).integer("a"), 5);
  EXPECT_EQ(BsonView(doc).integer("b.d"), 4);
  EXPECT_EQ(BsonView(c.command("crud", json(R"({"count": "applied"})"))).integer("n"), 2);
}

}  // namespace
}  // namespace shardsafe

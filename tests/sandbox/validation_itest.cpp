// Collection validators over TCP: create/collMod/listCollections options, 121
// DocumentValidationFailure on insert, update, upsert, replacement and findAndModify,
// validationLevel/validationAction, bypassDocumentValidation, $jsonSchema in queries, and
// writes that must not be validated (applyOps, journal replay, secondaries).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/error.h"
#include "mongo/client.h"
#include "support/eventually.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using mongo::Bson;
using mongo::BsonView;
using testing::SandboxReplSet;

Bson json(std::string_view text) { return Bson::from_json(text); }

int server_code_of(const std::function<void()>& action, std::string* message = nullptr) {
  try {
    action();
  } catch (const ServerError& error) {
    if (message != nullptr) *message = error.what();
    return error.server_code();
  }
  return 0;
}

// Documents need a string name and an int age of at least 0.
constexpr const char* kPeopleSchema = R"({"$jsonSchema": {"bsonType": "object", "required": ["name"],
    "properties": {"name": {"bsonType": "string"}, "age": {"bsonType": "int", "minimum": 0}}}})";

class SandboxValidation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { set_ = new SandboxReplSet(SandboxReplSet::Options{}); }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }
  mongo::Client client() { return mongo::Client(mongo::Uri(set_->uri())); }

  // Creates `coll` in db "val" with the people schema and the extra create options given.
  void create_people(mongo::Client& c, const std::string& coll, const std::string& options = "") {
    std::string extra = options.empty() ? "" : ", " + options;
    c.command("val", json(R"({"create": ")" + coll + R"(", "validator": )" + kPeopleSchema + extra + "}"));
  }
  std::int64_t count(mongo::Client& c, const std::string& coll, const std::string& filter = "{}") {
    return BsonView(c.command("val", json(R"({"count": ")" + coll + R"(", "query": )" + filter + "}"))).integer("n").value_or(-1);
  }
  static SandboxReplSet* set_;
};

SandboxReplSet* SandboxValidation::set_ = nullptr;

// Whether a member's log (a *.log file under the launcher's directory) contains `text`.
bool logs_contain(const std::filesystem::path& dir, const std::string& text) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".log") continue;
    std::ifstream in(entry.path());
    std::stringstream content;
    content << in.rdbuf();
    if (content.str().find(text) != std::string::npos) return true;
  }
  return false;
}

TEST_F(SandboxValidation, InsertOfAnInvalidDocumentIsAWriteErrorWithTheFailingId) {
  auto c = client();
  create_people(c, "people");
  Bson reply = c.command("val", json(R"({"insert": "people", "ordered": false, "documents": [
      {"_id": 1, "name": "ann", "age": {"$numberInt": "30"}}, {"_id": 2, "name": 5}, {"_id": 3, "age": 1},
      {"_id": 4, "name": "bob", "age": {"$numberInt": "-1"}}, {"_id": 5, "name": "cy"}]})"));
  BsonView view(reply);
  EXPECT_EQ(view.integer("n"), 2);
  for (int i : {0, 1, 2}) {
    std::string entry = "writeErrors." + std::to_string(i) + ".";
    EXPECT_EQ(view.integer(entry + "code"), 121);
    EXPECT_EQ(view.string(entry + "errmsg"), "Document failed validation");
    EXPECT_EQ(view.integer(entry + "index"), i + 1);
    EXPECT_EQ(view.integer(entry + "errInfo.failingDocumentId"), i + 2);
  }
  EXPECT_EQ(count(c, "people"), 2);
}

TEST_F(SandboxValidation, UpdatesReplacementsUpsertsAndFindAndModifyAreValidated) {
  auto c = client();
  create_people(c, "edits");
  c.command("val", json(R"({"insert": "edits", "documents": [{"_id": 1, "name": "ann"}]})"));
  Bson update = c.command("val", json(R"({"update": "edits", "updates": [{"q": {"_id": 1}, "u": {"$unset": {"name": ""}}}]})"));
  EXPECT_EQ(BsonView(update).integer("writeErrors.0.code"), 121);
  EXPECT_EQ(BsonView(update).integer("writeErrors.0.errInfo.failingDocumentId"), 1);
  EXPECT_EQ(BsonView(update).integer("nModified"), 0);
  Bson replace = c.command("val", json(R"({"update": "edits", "updates": [{"q": {"_id": 1}, "u": {"name": 7}}]})"));
  EXPECT_EQ(BsonView(replace).integer("writeErrors.0.code"), 121);
  Bson upsert = c.command("val", json(R"({"update": "edits", "updates": [{"q": {"_id": 2}, "u": {"$set": {"age": 3}}, "upsert": true}]})"));
  EXPECT_EQ(BsonView(upsert).integer("writeErrors.0.code"), 121);
  EXPECT_EQ(BsonView(upsert).integer("writeErrors.0.errInfo.failingDocumentId"), 2);
  Bson good = c.command("val", json(R"({"update": "edits", "updates": [{"q": {"_id": 1}, "u": {"$set": {"name": "bo"}}}]})"));
  EXPECT_EQ(BsonView(good).integer("nModified"), 1);
  EXPECT_FALSE(BsonView(good).has("writeErrors"));

  std::string message;
  EXPECT_EQ(server_code_of([&] {
    c.command("val", json(R"({"findAndModify": "edits", "query": {"_id": 1}, "update": {"$set": {"name": null}}})"));
  }, &message), 121);
  EXPECT_NE(message.find("Document failed validation"), std::string::npos) << message;
  EXPECT_EQ(server_code_of([&] {
    c.command("val", json(R"({"findAndModify": "edits", "query": {"_id": 9}, "update": {"$set": {"age": 1}}, "upsert": true})"));
  }), 121);
  EXPECT_EQ(count(c, "edits", R"({"name": "bo"})"), 1);
  EXPECT_EQ(count(c, "edits"), 1);
}

TEST_F(SandboxValidation, FindAndModifyErrorCarriesErrInfo) {
  auto c = client();
  create_people(c, "fam");
  c.command("val", json(R"({"insert": "fam", "documents": [{"_id": "k", "name": "ann"}]})"));
  bson_t reply;
  bson_error_t error;
  Bson cmd = json(R"({"findAndModify": "fam", "query": {"_id": "k"}, "update": {"$set": {"age": "old"}}})");
  ASSERT_FALSE(mongoc_client_command_simple(c.get(), "val", cmd.get(), nullptr, &reply, &error));
  Bson owned = Bson::adopt(&reply);
  EXPECT_EQ(BsonView(owned).integer("code"), 121);
  EXPECT_EQ(BsonView(owned).string("codeName"), "DocumentValidationFailure");
  EXPECT_EQ(BsonView(owned).string("errInfo.failingDocumentId"), "k");
}

TEST_F(SandboxValidation, BypassDocumentValidationSkipsTheCheck) {
  auto c = client();
  create_people(c, "bypass");
  Bson insert = c.command("val", json(R"({"insert": "bypass", "bypassDocumentValidation": true, "documents": [{"_id": 1}]})"));
  EXPECT_EQ(BsonView(insert).integer("n"), 1);
  Bson update = c.command("val", json(R"({"update": "bypass", "bypassDocumentValidation": true,
      "updates": [{"q": {"_id": 1}, "u": {"$set": {"age": "x"}}}]})"));
  EXPECT_EQ(BsonView(update).integer("nModified"), 1);
  c.command("val", json(R"({"findAndModify": "bypass", "bypassDocumentValidation": true, "query": {"_id": 1},
      "update": {"$set": {"name": 1}}})"));
  EXPECT_EQ(count(c, "bypass", R"({"name": 1, "age": "x"})"), 1);
}

TEST_F(SandboxValidation, ModerateLevelLetsAlreadyInvalidDocumentsBeUpdated) {
  auto c = client();
  c.command("val", json(R"({"insert": "moderate", "documents": [{"_id": 1}, {"_id": 2, "name": "ok"}]})"));
  c.command("val", json(std::string(R"({"collMod": "moderate", "validator": )") + kPeopleSchema + R"(, "validationLevel": "moderate"})"));
  Bson invalid_stays = c.command("val", json(R"({"update": "moderate", "updates": [{"q": {"_id": 1}, "u": {"$set": {"age": 5}}}]})"));
  EXPECT_EQ(BsonView(invalid_stays).integer("nModified"), 1);
  EXPECT_FALSE(BsonView(invalid_stays).has("writeErrors"));
  Bson valid_breaks = c.command("val", json(R"({"update": "moderate", "updates": [{"q": {"_id": 2}, "u": {"$unset": {"name": 1}}}]})"));
  EXPECT_EQ(BsonView(valid_breaks).integer("writeErrors.0.code"), 121);
  Bson insert = c.command("val", json(R"({"insert": "moderate", "documents": [{"_id": 3}]})"));
  EXPECT_EQ(BsonView(insert).integer("writeErrors.0.code"), 121) << "inserts are always checked";
}

TEST_F(SandboxValidation, WarnActionAndOffLevelAcceptInvalidDocuments) {
  auto c = client();
  create_people(c, "warned", R"("validationAction": "warn")");
  Bson warned = c.command("val", json(R"({"insert": "warned", "documents": [{"_id": "warned-1", "name": 2}]})"));
  EXPECT_EQ(BsonView(warned).integer("n"), 1);
  EXPECT_FALSE(BsonView(warned).has("writeErrors"));
  EXPECT_TRUE(logs_contain(set_->dir(), R"(Document would fail validation: val.warned { "failingDocumentId" : "warned-1" })"));
  create_people(c, "off", R"("validationLevel": "off")");
  EXPECT_EQ(BsonView(c.command("val", json(R"({"insert": "off", "documents": [{"_id": 1}]})"))).integer("n"), 1);
  c.command("val", json(R"({"collMod": "off", "validationLevel": "strict"})"));
  Bson strict = c.command("val", json(R"({"insert": "off", "documents": [{"_id": 2}]})"));
  EXPECT_EQ(BsonView(strict).integer("writeErrors.0.code"), 121) << "collMod changed the level";
}

TEST_F(SandboxValidation, QueryFilterValidatorsAndSchemasCombine) {
  auto c = client();
  c.command("val", json(R"({"create": "mixed", "validator": {"qty": {"$gte": 0}, "$jsonSchema": {"required": ["sku"]}}})"));
  Bson reply = c.command("val", json(R"({"insert": "mixed", "ordered": false, "documents": [
      {"_id": 1, "sku": "a", "qty": 1}, {"_id": 2, "sku": "b", "qty": -1}, {"_id": 3, "qty": 1}]})"));
  EXPECT_EQ(BsonView(reply).integer("n"), 1);
  EXPECT_EQ(BsonView(reply).integer("writeErrors.0.index"), 1);
  EXPECT_EQ(BsonView(reply).integer("writeErrors.1.index"), 2);
}

TEST_F(SandboxValidation, ListCollectionsShowsTheOptionsAndCollModChangesThem) {
  auto c = client();
  create_people(c, "listed", R"("validationLevel": "moderate", "validationAction": "warn")");
  auto info_of = [&] {
    auto listed = c.command_cursor("val", json(R"({"listCollections": 1, "filter": {"name": "listed"}})"));
    const bson_t* info = listed.next();
    return info == nullptr ? Bson() : Bson::copy_of(info);
  };
  Bson before = info_of();
  BsonView view(before);
  EXPECT_EQ(view.string("options.validator.$jsonSchema.properties.name.bsonType"), "string");
  EXPECT_EQ(view.string("options.validationLevel"), "moderate");
  EXPECT_EQ(view.string("options.validationAction"), "warn");
  c.command("val", json(R"({"collMod": "listed", "validator": {"a": {"$exists": true}}, "validationAction": "error"})"));
  Bson after = info_of();
  EXPECT_TRUE(BsonView(after).has("options.validator.a.$exists"));
  EXPECT_FALSE(BsonView(after).has("options.validator.$jsonSchema"));
  EXPECT_EQ(BsonView(after).string("options.validationLevel"), "moderate");
  EXPECT_EQ(BsonView(after).string("options.validationAction"), "error");
}

TEST_F(SandboxValidation, MalformedValidatorsAndOptionsAreRefused) {
  auto c = client();
  std::string message;
  EXPECT_EQ(server_code_of([&] { c.command("val", json(R"({"create": "bad1", "validator": {"$jsonSchema": {"$ref": "#/x"}}})")); }, &message), 9);
  EXPECT_NE(message.find("$jsonSchema keyword '$ref' is not currently supported"), std::string::npos) << message;
  EXPECT_EQ(server_code_of([&] { c.command("val", json(R"({"create": "bad2", "validator": {"$jsonSchema": {"bsonType": "nope"}}})")); }), 2);
  EXPECT_EQ(server_code_of([&] { c.command("val", json(R"({"create": "bad3", "validator": {"$foo": 1}})")); }), 2);
  EXPECT_EQ(server_code_of([&] { c.command("val", json(R"({"create": "bad4", "validator": 1})")); }), 14);
  EXPECT_EQ(server_code_of([&] { c.command("val", json(R"({"create": "bad5", "validationLevel": "loose"})")); }), 2);
  EXPECT_EQ(server_code_of([&] { c.command("val", json(R"({"create": "bad6", "validationAction": "shout"})")); }), 2);
  EXPECT_EQ(server_code_of([&] { c.command("admin", json(R"({"create": "bad7", "validator": {"a": 1}})")); }), 72);
  c.command("val", json(R"({"create": "good"})"));
  EXPECT_EQ(server_code_of([&] { c.command("val", json(R"({"collMod": "good", "validator": {"$jsonSchema": {"format": "x"}}})")); }), 9);
  auto listed = c.command_cursor("val", json(R"({"listCollections": 1, "filter": {"name": {"$regex": "^bad"}}})"));
  EXPECT_EQ(listed.next(), nullptr) << "refused collections are not created";
}

TEST_F(SandboxValidation, JsonSchemaWorksInFindAndMatch) {
  auto c = client();
  c.command("val", json(R"({"insert": "queried", "documents": [{"_id": 1, "tags": ["a", "b"]}, {"_id": 2, "tags": ["a", "a"]}, {"_id": 3}]})"));
  auto cursor = c.find("val", "queried", json(R"({"$jsonSchema": {"required": ["tags"], "properties": {"tags": {"uniqueItems": true}}}})"));
  std::vector<std::int64_t> ids;
  while (const bson_t* doc = cursor.next()) ids.push_back(*BsonView(doc).integer("_id"));
  EXPECT_EQ(ids, std::vector<std::int64_t>{1});
  Bson agg = c.command("val", json(R"({"aggregate": "queried", "cursor": {},
      "pipeline": [{"$match": {"$jsonSchema": {"not": {"required": ["tags"]}}}}, {"$count": "n"}]})"));
  EXPECT_EQ(BsonView(agg).integer("cursor.firstBatch.0.n"), 1);
}

// Restores replay documents with applyOps, and a member replays its journal after a crash:
// neither validates, as mongod's oplog application does not.
TEST_F(SandboxValidation, ApplyOpsAndJournalReplayDoNotValidate) {
  auto c = client();
  create_people(c, "restored");
  Bson reply = c.command("admin", json(R"({"applyOps": [{"op": "i", "ns": "val.restored", "o": {"_id": 1, "name": 1}},
      {"op": "i", "ns": "val.restored", "o": {"_id": 2}}]})"));
  EXPECT_EQ(BsonView(reply).integer("applied"), 2);
  c.command("val", json(R"({"update": "restored", "bypassDocumentValidation": true, "updates": [{"q": {"_id": 2}, "u": {"$set": {"age": "x"}}}]})"));
  set_->kill_member(0);
  set_->restart_member(0);
  auto again = client();
  ASSERT_TRUE(testing::eventually([&] {
    try {
      return count(again, "restored", R"({"age": "x"})") == 1;
    } catch (const Error&) {
      return false;
    }
  }, std::chrono::seconds(30)));
  EXPECT_EQ(count(again, "restored"), 2);
  Bson still = again.command("val", json(R"({"insert": "restored", "documents": [{"_id": 3}]})"));
  EXPECT_EQ(BsonView(still).integer("writeErrors.0.code"), 121) << "the validator survives the restart";
}

TEST(SandboxValidationReplication, SecondariesApplyWritesThatBypassedValidation) {
  SandboxReplSet set(SandboxReplSet::Options{.name = "rs0", .members = 2, .oplog_size_mb = 64});
  mongo::Client c{mongo::Uri(set.uri())};
  c.command("val", json(std::string(R"({"create": "repl", "validator": )") + kPeopleSchema + "}"));
  c.command("val", json(R"({"insert": "repl", "bypassDocumentValidation": true, "documents": [{"_id": 1}],
      "writeConcern": {"w": 2}})"));
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(testing::eventually([&] {
      mongo::Client member{mongo::Uri(set.member_uri(i))};
      Bson n = member.command("val", json(R"({"count": "repl"})"), mongo::ReadPreference::kSecondaryPreferred);
      return BsonView(n).integer("n") == 1;
    }, std::chrono::seconds(20))) << "member " << i;
  }
}

}  // namespace
}  // namespace shardsafe

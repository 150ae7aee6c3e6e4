// The sandbox's user and role management: documents stored as mongod stores them (with real
// SCRAM credentials), command replies and error codes, _mergeAuthzCollections (mongorestore's
// way of restoring users and roles) and replication of all of it.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include "common/error.h"
#include "mongo/client.h"
#include "support/eventually.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using mongo::Bson;
using mongo::BsonView;
using testing::SandboxReplSet;
using testing::eventually;
using Bytes = std::vector<unsigned char>;
using Clock = std::chrono::steady_clock;

Bson json(std::string_view text) { return Bson::from_json(text); }

// ---- an independent SCRAM computation (RFC 5802 / RFC 7677), checked against RFC 7677's vector

Bytes bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

Bytes base64_decode(const std::string& text) {
  Bytes out(text.size());
  int length = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                               static_cast<int>(text.size()));
  if (length < 0) throw std::runtime_error("bad base64: " + text);
  auto padding = static_cast<std::size_t>(std::count(text.end() - std::min<std::ptrdiff_t>(2, std::ssize(text)), text.end(), '='));
  out.resize(static_cast<std::size_t>(length) - padding);
  return out;
}

std::string base64(const Bytes& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(length));
  return out;
}

Bytes hmac(const EVP_MD* md, const Bytes& key, const Bytes& message) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), message.data(), message.size(), out.data(), &length);
  out.resize(length);
  return out;
}

Bytes hash(const EVP_MD* md, const Bytes& data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &length, md, nullptr);
  out.resize(length);
  return out;
}

Bytes salted_password(const EVP_MD* md, const std::string& password, const Bytes& salt, int iterations) {
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(), static_cast<int>(salt.size()),
                    iterations, md, static_cast<int>(out.size()), out.data());
  return out;
}

std::string hex(const Bytes& data) {
  std::string out;
  char digits[3];
  for (unsigned char byte : data) {
    std::snprintf(digits, sizeof digits, "%02x", byte);
    out += digits;
  }
  return out;
}

struct ScramKeys {
  std::string stored_key;
  std::string server_key;
};

// What a client that knows the password derives from the stored salt and iteration count.
ScramKeys derive_keys(const std::string& mechanism, const std::string& user, const std::string& password,
                      const Bytes& salt, int iterations) {
  const EVP_MD* md = mechanism == "SCRAM-SHA-1" ? EVP_sha1() : EVP_sha256();
  std::string secret = password;
  if (mechanism == "SCRAM-SHA-1") secret = hex(hash(EVP_md5(), bytes(user + ":mongo:" + password)));
  Bytes salted = salted_password(md, secret, salt, iterations);
  return {base64(hash(md, hmac(md, salted, bytes("Client Key")))), base64(hmac(md, salted, bytes("Server Key")))};
}

TEST(SandboxAuthScram, TheTestsScramHelperReproducesRfc7677) {
  // RFC 7677 section 3: user "user", password "pencil"; the server signature proves ServerKey.
  Bytes salted = salted_password(EVP_sha256(), "pencil", base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
  std::string auth_message =
      "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  Bytes server_key = hmac(EVP_sha256(), salted, bytes("Server Key"));
  EXPECT_EQ(base64(hmac(EVP_sha256(), server_key, bytes(auth_message))), "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

// ---- helpers over a running set

struct Failure {
  int code = 0;
  std::string code_name;
};

Failure failure_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ServerError& error) {
    return {error.server_code(), error.code_name()};
  }
  return {};
}

std::optional<Bson> stored(mongo::Client& client, const std::string& coll, const std::string& id,
                           mongo::ReadPreference preference = mongo::ReadPreference::kPrimary) {
  auto cursor = client.find("admin", coll, mongo::BsonBuilder().append("_id", id).build(), {}, preference);
  const bson_t* doc = cursor.next();
  if (doc == nullptr) return std::nullopt;
  return Bson::copy_of(doc);
}

std::vector<std::string> ids_in(mongo::Client& client, const std::string& coll,
                                mongo::ReadPreference preference = mongo::ReadPreference::kPrimary) {
  std::vector<std::string> ids;
  auto cursor = client.find("admin", coll, Bson(), mongo::BsonBuilder().append("sort", json(R"({"_id": 1})")).build(),
                            preference);
  while (const bson_t* doc = cursor.next()) ids.push_back(*BsonView(doc).string("_id"));
  return ids;
}

std::vector<Bson> users_info(mongo::Client& client, const std::string& db, const std::string& command) {
  return BsonView(client.command(db, json(command))).documents("users");
}

std::vector<std::string> role_names(const Bson& array_holder, const std::string& path) {
  std::vector<std::string> names;
  for (const Bson& role : BsonView(array_holder).documents(path)) {
    names.push_back(*BsonView(role).string("role") + "@" + *BsonView(role).string("db"));
  }
  return names;
}

void expect_credential_matches(const Bson& user, const std::string& mechanism, const std::string& password,
                               int iterations, std::size_t salt_bytes) {
  BsonView view(user);
  const std::string prefix = "credentials." + mechanism + ".";
  ASSERT_TRUE(view.string(prefix + "salt")) << mechanism;
  EXPECT_EQ(view.integer(prefix + "iterationCount"), iterations);
  Bytes salt = base64_decode(*view.string(prefix + "salt"));
  EXPECT_EQ(salt.size(), salt_bytes);
  ScramKeys keys = derive_keys(mechanism, *view.string("user"), password, salt, iterations);
  EXPECT_EQ(view.string(prefix + "storedKey"), keys.stored_key) << mechanism;
  EXPECT_EQ(view.string(prefix + "serverKey"), keys.server_key) << mechanism;
}

class SandboxAuth : public ::testing::Test {
 protected:
  SandboxReplSet set{SandboxReplSet::Options{}};
  mongo::Client client{mongo::Uri(set.uri())};
};

TEST_F(SandboxAuth, CreateUserStoresTheDocumentMongodStoresWithRealScramCredentials) {
  client.command("app", json(R"({"createUser": "alice", "pwd": "s3cret-Pw", "customData": {"team": 7},
      "roles": ["readWrite", {"role": "read", "db": "reporting"}], "writeConcern": {"w": "majority"}})"));

  auto doc = stored(client, "system.users", "app.alice");
  ASSERT_TRUE(doc);
  BsonView view(*doc);
  bson_iter_t iter;
  bson_iter_init(&iter, doc->get());
  std::vector<std::string> keys;
  while (bson_iter_next(&iter)) keys.emplace_back(bson_iter_key(&iter));
  EXPECT_EQ(keys, (std::vector<std::string>{"_id", "userId", "user", "db", "credentials", "customData", "roles"}));
  ASSERT_TRUE(view.find("userId", &iter) && BSON_ITER_HOLDS_BINARY(&iter));
  bson_subtype_t subtype;
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_binary(&iter, &subtype, &length, &data);
  EXPECT_EQ(subtype, BSON_SUBTYPE_UUID);
  EXPECT_EQ(length, 16u);
  EXPECT_EQ(view.string("user"), "alice");
  EXPECT_EQ(view.string("db"), "app");
  EXPECT_EQ(view.integer("customData.team"), 7);
  EXPECT_EQ(role_names(*doc, "roles"), (std::vector<std::string>{"readWrite@app", "read@reporting"}));
  expect_credential_matches(*doc, "SCRAM-SHA-1", "s3cret-Pw", 10000, 16);
  expect_credential_matches(*doc, "SCRAM-SHA-256", "s3cret-Pw", 15000, 28);

  // usersInfo: no credentials unless asked, mechanisms listed, customData shown.
  auto users = users_info(client, "app", R"({"usersInfo": "alice"})");
  ASSERT_EQ(users.size(), 1u);
  EXPECT_FALSE(BsonView(users[0]).has("credentials"));
  EXPECT_EQ(BsonView(users[0]).string("_id"), "app.alice");
  EXPECT_EQ(BsonView(users[0]).integer("customData.team"), 7);
  EXPECT_EQ(BsonView(users[0]).strings("mechanisms"), (std::vector<std::string>{"SCRAM-SHA-1", "SCRAM-SHA-256"}));
  EXPECT_EQ(role_names(users[0], "roles"), (std::vector<std::string>{"readWrite@app", "read@reporting"}));
  auto with_credentials = users_info(client, "app", R"({"usersInfo": {"user": "alice", "db": "app"}, "showCredentials": true})");
  ASSERT_EQ(with_credentials.size(), 1u);
  EXPECT_EQ(BsonView(with_credentials[0]).document("credentials")->canonical_json(),
            view.document("credentials")->canonical_json());
  auto without_custom = users_info(client, "app", R"({"usersInfo": "alice", "showCustomData": false})");
  EXPECT_FALSE(BsonView(without_custom.at(0)).has("customData"));

  // A user limited to one mechanism gets only that credential.
  client.command("other", json(R"({"createUser": "bob", "pwd": "pw", "roles": [], "mechanisms": ["SCRAM-SHA-256"]})"));
  auto bob = stored(client, "system.users", "other.bob");
  ASSERT_TRUE(bob);
  EXPECT_FALSE(BsonView(*bob).has("credentials.SCRAM-SHA-1"));
  expect_credential_matches(*bob, "SCRAM-SHA-256", "pw", 15000, 28);

  // Selectors: 1 = this database, forAllDBs = every database (sorted by user, then db), arrays.
  EXPECT_EQ(users_info(client, "app", R"({"usersInfo": 1})").size(), 1u);
  auto everyone = users_info(client, "app", R"({"usersInfo": {"forAllDBs": true}})");
  ASSERT_EQ(everyone.size(), 2u);
  EXPECT_EQ(BsonView(everyone[0]).string("user"), "alice");
  EXPECT_EQ(BsonView(everyone[1]).string("user"), "bob");
  EXPECT_EQ(users_info(client, "app", R"({"usersInfo": ["alice", {"user": "bob", "db": "other"}, "nobody"]})").size(), 2u);
  EXPECT_TRUE(users_info(client, "app", R"({"usersInfo": "bob"})").empty()) << "bob is a user of 'other', not 'app'";
}

TEST_F(SandboxAuth, UserCommandsFailWithMongodsCodes) {
  client.command("app", json(R"({"createUser": "alice", "pwd": "pw", "roles": []})"));
  Failure duplicate = failure_of([&] { client.command("app", json(R"({"createUser": "alice", "pwd": "x", "roles": []})")); });
  EXPECT_EQ(duplicate.code, 51003);
  EXPECT_EQ(duplicate.code_name, "Location51003");
  Failure unknown_role = failure_of([&] { client.command("app", json(R"({"createUser": "carl", "pwd": "x", "roles": ["nope"]})")); });
  EXPECT_EQ(unknown_role.code, 31);
  EXPECT_EQ(unknown_role.code_name, "RoleNotFound");
  EXPECT_FALSE(stored(client, "system.users", "app.carl")) << "a failed createUser writes nothing";
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"createUser": "carl", "roles": []})")); }).code, 2)
      << "pwd is required outside $external";
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"createUser": "carl", "pwd": "x"})")); }).code, 40414);
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"dropUser": "nobody"})")); }).code_name, "UserNotFound");
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"updateUser": "nobody", "pwd": "x"})")); }).code, 11);
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"grantRolesToUser": "nobody", "roles": ["read"]})")); }).code, 11);
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"grantRolesToUser": "alice", "roles": ["nope"]})")); }).code, 31);
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"grantRolesToUser": "alice", "roles": []})")); }).code, 2);
}

TEST_F(SandboxAuth, UpdateGrantRevokeAndDropChangeTheStoredUser) {
  client.command("app", json(R"({"createUser": "alice", "pwd": "old", "roles": ["read"]})"));
  std::string old_salt = *BsonView(*stored(client, "system.users", "app.alice")).string("credentials.SCRAM-SHA-256.salt");
  client.command("app", json(R"({"updateUser": "alice", "pwd": "new-password", "customData": {"v": 2}})"));
  auto updated = stored(client, "system.users", "app.alice");
  ASSERT_TRUE(updated);
  EXPECT_NE(BsonView(*updated).string("credentials.SCRAM-SHA-256.salt"), old_salt);
  expect_credential_matches(*updated, "SCRAM-SHA-256", "new-password", 15000, 28);
  expect_credential_matches(*updated, "SCRAM-SHA-1", "new-password", 10000, 16);
  EXPECT_EQ(BsonView(*updated).integer("customData.v"), 2);

  client.command("app", json(R"({"grantRolesToUser": "alice", "roles": ["readWrite", {"role": "clusterMonitor", "db": "admin"}, "read"]})"));
  EXPECT_EQ(role_names(*stored(client, "system.users", "app.alice"), "roles"),
            (std::vector<std::string>{"read@app", "readWrite@app", "clusterMonitor@admin"}));
  client.command("app", json(R"({"revokeRolesFromUser": "alice", "roles": ["read"]})"));
  EXPECT_EQ(role_names(*stored(client, "system.users", "app.alice"), "roles"),
            (std::vector<std::string>{"readWrite@app", "clusterMonitor@admin"}));

  client.command("app", json(R"({"updateUser": "alice", "mechanisms": ["SCRAM-SHA-256"]})"));
  EXPECT_FALSE(BsonView(*stored(client, "system.users", "app.alice")).has("credentials.SCRAM-SHA-1"));

  client.command("app", json(R"({"createUser": "bob", "pwd": "pw", "roles": []})"));
  client.command("else", json(R"({"createUser": "carol", "pwd": "pw", "roles": []})"));
  client.command("app", json(R"({"dropUser": "bob"})"));
  EXPECT_EQ(ids_in(client, "system.users"), (std::vector<std::string>{"app.alice", "else.carol"}));
  Bson dropped = client.command("app", json(R"({"dropAllUsersFromDatabase": 1})"));
  EXPECT_EQ(BsonView(dropped).integer("n"), 1);
  EXPECT_EQ(ids_in(client, "system.users"), (std::vector<std::string>{"else.carol"}));
}

TEST_F(SandboxAuth, RolesAreCreatedDescribedGrantedAndDropped) {
  client.command("app", json(R"({"createRole": "reader", "privileges": [
      {"resource": {"db": "app", "collection": "orders"}, "actions": ["find"]}], "roles": []})"));
  client.command("app", json(R"({"createRole": "clerk", "privileges": [
      {"resource": {"db": "app", "collection": ""}, "actions": ["insert"]}], "roles": ["reader", "read"]})"));

  auto clerk = stored(client, "system.roles", "app.clerk");
  ASSERT_TRUE(clerk);
  EXPECT_EQ(BsonView(*clerk).string("role"), "clerk");
  EXPECT_EQ(BsonView(*clerk).string("db"), "app");
  EXPECT_EQ(BsonView(*clerk).string("privileges.0.actions.0"), "insert");
  EXPECT_EQ(role_names(*clerk, "roles"), (std::vector<std::string>{"reader@app", "read@app"}));

  Bson info = client.command("app", json(R"({"rolesInfo": "clerk", "showPrivileges": true})"));
  auto roles = BsonView(info).documents("roles");
  ASSERT_EQ(roles.size(), 1u);
  EXPECT_EQ(BsonView(roles[0]).boolean("isBuiltin"), false);
  auto inherited = role_names(roles[0], "inheritedRoles");
  std::sort(inherited.begin(), inherited.end());
  EXPECT_EQ(inherited, (std::vector<std::string>{"read@app", "reader@app"}));
  EXPECT_EQ(BsonView(roles[0]).documents("inheritedPrivileges").size(), 2u);
  EXPECT_EQ(BsonView(client.command("app", json(R"({"rolesInfo": 1})"))).documents("roles").size(), 2u);
  EXPECT_EQ(BsonView(client.command("app", json(R"({"rolesInfo": [{"role": "read", "db": "app"}]})"))).boolean("roles.0.isBuiltin"), true);

  Failure duplicate = failure_of([&] { client.command("app", json(R"({"createRole": "clerk", "privileges": [], "roles": []})")); });
  EXPECT_EQ(duplicate.code, 51002);
  EXPECT_EQ(duplicate.code_name, "Location51002");
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"createRole": "x", "privileges": [], "roles": ["nope"]})")); }).code, 31);
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"createRole": "x", "privileges": [], "roles": [{"role": "r", "db": "b"}]})")); }).code, 49)
      << "roles outside admin inherit only from their own database";
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"updateRole": "reader", "roles": ["clerk"]})")); }).code, 49)
      << "a cycle in the role graph";
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"dropRole": "nope"})")); }).code, 31);

  client.command("app", json(R"({"createUser": "alice", "pwd": "pw", "roles": ["reader", "read"]})"));
  client.command("app", json(R"({"dropRole": "reader"})"));
  EXPECT_FALSE(stored(client, "system.roles", "app.reader"));
  EXPECT_EQ(role_names(*stored(client, "system.users", "app.alice"), "roles"), (std::vector<std::string>{"read@app"}))
      << "dropRole removes the role from its users";
  EXPECT_EQ(role_names(*stored(client, "system.roles", "app.clerk"), "roles"), (std::vector<std::string>{"read@app"}))
      << "and from the roles that inherited it";
}

// Copies admin.system.<kind> documents into a temp collection, as mongorestore stages a dump.
void stage(mongo::Client& client, const std::string& temp, const std::vector<Bson>& docs) {
  client.command("admin", mongo::BsonBuilder().append("insert", temp).append_array("documents", docs).build());
}

Bson with_custom_data(const Bson& user, int value) {
  mongo::BsonBuilder out;
  bson_iter_t iter;
  bson_iter_init(&iter, user.get());
  while (bson_iter_next(&iter)) {
    if (std::string_view(bson_iter_key(&iter)) != "customData") out.append_iter(bson_iter_key(&iter), &iter);
  }
  return out.append("customData", mongo::BsonBuilder().append("v", value).build()).build();
}

TEST_F(SandboxAuth, MergeAuthzCollectionsInsertsReplacesAndDropsAsMongodDoes) {
  for (const char* user : {"alice", "bob", "dave"}) {
    client.command("app", mongo::BsonBuilder().append("createUser", user).append("pwd", "pw")
                              .append("customData", mongo::BsonBuilder().append("v", 1).build())
                              .append_array("roles", std::vector<std::string>{"read"}).build());
  }
  client.command("else", json(R"({"createUser": "carol", "pwd": "pw", "roles": []})"));
  Bson alice = *stored(client, "system.users", "app.alice");
  Bson dave = *stored(client, "system.users", "app.dave");
  Bson carol = *stored(client, "system.users", "else.carol");
  // The dump to restore: alice changed, dave (dropped since), carol; bob is not in it.
  stage(client, "tempusers", {with_custom_data(alice, 2), dave, carol});
  client.command("app", json(R"({"dropUser": "dave"})"));

  // drop:false only adds: alice keeps her current document, dave comes back, bob stays.
  client.command("admin", json(R"({"_mergeAuthzCollections": 1, "tempUsersCollection": "admin.tempusers",
      "tempRolesCollection": "", "db": "app", "drop": false, "writeConcern": {"w": "majority"}})"));
  EXPECT_EQ(ids_in(client, "system.users"), (std::vector<std::string>{"app.alice", "app.bob", "app.dave", "else.carol"}));
  EXPECT_EQ(BsonView(*stored(client, "system.users", "app.alice")).integer("customData.v"), 1);
  EXPECT_EQ(stored(client, "system.users", "app.dave")->canonical_json(), dave.canonical_json());

  // drop:true scoped to "app": alice is replaced, bob (not in the dump) removed; "else" untouched.
  client.command("else", json(R"({"createUser": "erin", "pwd": "pw", "roles": []})"));
  client.command("admin", json(R"({"_mergeAuthzCollections": 1, "tempUsersCollection": "admin.tempusers",
      "db": "app", "drop": true})"));
  EXPECT_EQ(ids_in(client, "system.users"), (std::vector<std::string>{"app.alice", "app.dave", "else.carol", "else.erin"}));
  EXPECT_EQ(stored(client, "system.users", "app.alice")->canonical_json(), with_custom_data(alice, 2).canonical_json());

  // drop:true over every database ("" ): erin, missing from the dump, goes too.
  client.command("admin", json(R"({"_mergeAuthzCollections": 1, "tempUsersCollection": "admin.tempusers",
      "db": "", "drop": true})"));
  EXPECT_EQ(ids_in(client, "system.users"), (std::vector<std::string>{"app.alice", "app.dave", "else.carol"}));
  EXPECT_EQ(ids_in(client, "tempusers").size(), 3u) << "the temp collection is the caller's to drop";

  // Roles the same way.
  client.command("app", json(R"({"createRole": "r1", "privileges": [], "roles": []})"));
  client.command("app", json(R"({"createRole": "r2", "privileges": [], "roles": []})"));
  stage(client, "temproles", {*stored(client, "system.roles", "app.r1")});
  client.command("app", json(R"({"updateRole": "r1", "roles": ["read"]})"));
  client.command("admin", json(R"({"_mergeAuthzCollections": 1, "tempRolesCollection": "admin.temproles",
      "db": "app", "drop": true})"));
  EXPECT_EQ(ids_in(client, "system.roles"), (std::vector<std::string>{"app.r1"}));
  EXPECT_TRUE(role_names(*stored(client, "system.roles", "app.r1"), "roles").empty()) << "r1 is back as dumped";
}

TEST_F(SandboxAuth, MergeAuthzCollectionsRejectsMalformedRequestsAsMongodDoes) {
  auto merge = [&](const std::string& db, const std::string& command) {
    return failure_of([&] { client.command(db, json(command)); });
  };
  Failure missing_db = merge("admin", R"({"_mergeAuthzCollections": 1, "tempUsersCollection": "admin.t"})");
  EXPECT_EQ(missing_db.code, 40414);
  EXPECT_EQ(merge("admin", R"({"_mergeAuthzCollections": 1, "tempUsersCollection": "admin.t", "db": "", "drop": "yes"})").code_name,
            "TypeMismatch");
  EXPECT_EQ(merge("admin", R"({"_mergeAuthzCollections": 1, "tempUsersCollection": 5, "db": ""})").code, 14);
  EXPECT_EQ(merge("admin", R"({"_mergeAuthzCollections": 1, "db": ""})").code_name, "BadValue");
  EXPECT_EQ(merge("app", R"({"_mergeAuthzCollections": 1, "tempUsersCollection": "admin.t", "db": ""})").code, 13);
}


std::vector<std::string> documents_on(const std::string& uri, const std::string& coll,
                                      mongo::ReadPreference preference = mongo::ReadPreference::kSecondaryPreferred) {
  mongo::Client member{mongo::Uri(uri)};
  std::vector<std::string> docs;
  auto cursor = member.find("admin", coll, Bson(), mongo::BsonBuilder().append("sort", json(R"({"_id": 1})")).build(),
                            preference);
  while (const bson_t* doc = cursor.next()) docs.push_back(Bson::copy_of(doc).canonical_json());
  return docs;
}

TEST(SandboxAuthReplication, UserAndRoleWritesReachEverySecondary) {
  constexpr int kMembers = 3;
  SandboxReplSet set(SandboxReplSet::Options{.members = kMembers});
  mongo::Client client{mongo::Uri(set.uri())};
  client.command("app", json(R"({"createRole": "r1", "privileges": [], "roles": []})"));
  client.command("app", json(R"({"createUser": "alice", "pwd": "pw", "roles": ["r1"]})"));
  client.command("app", json(R"({"createUser": "bob", "pwd": "pw", "roles": []})"));
  stage(client, "tempusers", {*stored(client, "system.users", "app.alice")});
  client.command("app", json(R"({"grantRolesToUser": "alice", "roles": ["readWrite"]})"));
  client.command("admin", json(R"({"_mergeAuthzCollections": 1, "tempUsersCollection": "admin.tempusers",
      "db": "app", "drop": true, "writeConcern": {"w": "majority"}})"));
  auto users = documents_on(set.uri(), "system.users", mongo::ReadPreference::kPrimary);
  auto roles = documents_on(set.uri(), "system.roles", mongo::ReadPreference::kPrimary);
  ASSERT_EQ(users.size(), 1u) << "bob was dropped, alice restored";

  for (int i = 0; i < kMembers; ++i) {
    EXPECT_TRUE(eventually([&] {
      return documents_on(set.member_uri(i), "system.users") == users &&
             documents_on(set.member_uri(i), "system.roles") == roles;
    }, std::chrono::seconds(20))) << "member " << i;
  }
  // usersInfo answers on a secondary too (it is a read).
  mongo::Client reader{mongo::Uri(set.uri())};
  Bson info = reader.command("app", json(R"({"usersInfo": "alice"})"), mongo::ReadPreference::kSecondary);
  EXPECT_EQ(role_names(BsonView(info).documents("users").at(0), "roles"), (std::vector<std::string>{"r1@app"}));
}

TEST(SandboxAuthDurability, UsersSurviveKillNine) {
  SandboxReplSet set(SandboxReplSet::Options{});
  {
    mongo::Client client{mongo::Uri(set.uri())};
    client.command("app", json(R"({"createUser": "alice", "pwd": "pw", "roles": ["read"]})"));
  }
  std::string before = documents_on(set.member_uri(0), "system.users").at(0);
  set.kill_member(0);
  set.restart_member(0);
  EXPECT_TRUE(eventually([&] { return documents_on(set.member_uri(0), "system.users") == std::vector<std::string>{before}; },
                         std::chrono::seconds(20)));
  mongo::Client client{mongo::Uri(set.uri())};
  EXPECT_EQ(failure_of([&] { client.command("app", json(R"({"createUser": "alice", "pwd": "x", "roles": []})")); }).code, 51003)
      << "the replayed journal restored the user";
}

}  // namespace
}  // namespace shardsafe

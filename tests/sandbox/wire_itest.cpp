// Wire-protocol edge cases over a raw socket: checksums, compression, malformed and oversized
// messages (the connection closes, the server stays up).

#include <gtest/gtest.h>

#include "mongo/client.h"
#include "sandbox/raw_socket.h"
#include "server/peer.h"
#include "server/wire.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

using mongo::Bson;
using mongo::BsonView;
using testing::RawSocket;
using testing::SandboxReplSet;

sandbox::Doc ping_command() {
  Bson ping = Bson::from_json(R"({"ping": 1, "$db": "admin"})");
  return sandbox::Doc::from_bytes(ping.bytes().data(), ping.bytes().size());
}

class SandboxWire : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { set_ = new SandboxReplSet(SandboxReplSet::Options{}); }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }
  static bool server_answers() {
    RawSocket socket(set_->hosts()[0]);
    socket.send(sandbox::encode_op_msg(1, ping_command()));
    auto reply = socket.receive();
    return reply && sandbox::is_ok(sandbox::decode_op_msg_reply(*reply));
  }
  static SandboxReplSet* set_;
};

SandboxReplSet* SandboxWire::set_ = nullptr;

TEST_F(SandboxWire, GarbageClosesTheConnectionButNotTheServer) {
  {
    RawSocket socket(set_->hosts()[0]);
    std::vector<std::uint8_t> garbage = sandbox::encode_op_msg(1, ping_command());
    garbage[20] = 9;  // an unknown section kind
    socket.send(garbage);
    EXPECT_FALSE(socket.receive().has_value());
  }
  {
    RawSocket socket(set_->hosts()[0]);
    std::vector<std::uint8_t> oversized = {0x00, 0x00, 0x00, 0x7f, 1, 0, 0, 0, 0, 0, 0, 0, 0xdd, 0x07, 0, 0};
    socket.send(oversized);
    EXPECT_FALSE(socket.receive().has_value());
  }
  EXPECT_TRUE(server_answers());
}

TEST_F(SandboxWire, ChecksummedRequestsGetChecksummedReplies) {
  RawSocket socket(set_->hosts()[0]);
  std::vector<std::uint8_t> message = sandbox::encode_op_msg(7, ping_command());
  message[16] = 1;  // checksumPresent
  message.resize(message.size() + 4);
  message[0] = static_cast<std::uint8_t>(message.size());
  std::uint32_t crc = sandbox::crc32c(message.data(), message.size() - 4);
  for (int i = 0; i < 4; ++i) message[message.size() - 4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
  socket.send(message);
  auto reply = socket.receive();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->bytes[16] & 1, 1) << "reply flags carry checksumPresent";
  std::uint32_t expected = sandbox::crc32c(reply->bytes.data(), reply->bytes.size() - 4);
  std::uint32_t actual = 0;
  for (int i = 0; i < 4; ++i) actual |= static_cast<std::uint32_t>(reply->bytes[reply->bytes.size() - 4 + static_cast<std::size_t>(i)]) << (8 * i);
  EXPECT_EQ(actual, expected);

  message[message.size() - 1] ^= 0xff;  // a corrupted checksum closes the connection
  socket.send(message);
  EXPECT_FALSE(socket.receive().has_value());
}

TEST_F(SandboxWire, ZlibIsAdvertisedOnlyWhenOfferedAndThenWorks) {
  mongo::Client client{mongo::Uri(set_->uri() + "&compressors=zlib")};
  Bson hello = client.command("admin", Bson::from_json(R"({"hello": 1, "compression": ["zlib"]})"));
  EXPECT_EQ(BsonView(hello).strings("compression"), std::vector<std::string>{"zlib"});
  std::vector<Bson> docs;
  for (int i = 0; i < 200; ++i) docs.push_back(mongo::BsonBuilder().append("_id", i).append("text", std::string(500, 'a')).build());
  client.command("wire", mongo::BsonBuilder().append("insert", "z").append_array("documents", docs).build());
  auto cursor = client.find("wire", "z", Bson());
  int count = 0;
  while (cursor.next()) ++count;
  EXPECT_EQ(count, 200);
}

TEST_F(SandboxWire, MoreToComeRequestsGetNoReply) {
  RawSocket socket(set_->hosts()[0]);
  Bson insert = Bson::from_json(R"({"insert": "w0", "documents": [{"_id": 1}], "$db": "wire", "writeConcern": {"w": 0}})");
  std::vector<std::uint8_t> message = sandbox::encode_op_msg(1, sandbox::Doc::from_bytes(insert.bytes().data(), insert.bytes().size()));
  message[16] = 2;  // moreToCome
  socket.send(message);
  socket.send(sandbox::encode_op_msg(2, ping_command()));
  auto reply = socket.receive();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->response_to, 2) << "the first reply answers the ping, not the w:0 insert";
}

}  // namespace
}  // namespace shardsafe

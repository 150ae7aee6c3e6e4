// Digests against the FIPS 180 / RFC 1321 test vectors, and the pass-through filters.
#include "storage/hash.h"

#include <gtest/gtest.h>

namespace shardsafe::storage {
namespace {

class Collect : public Sink {
 public:
  void write(std::span<const std::uint8_t> bytes) override { data.append(bytes.begin(), bytes.end()); }
  void finish() override { finished = true; }
  std::string data;
  bool finished = false;
};

TEST(Digests, KnownVectors) {
  EXPECT_EQ(sha256_hex(as_bytes("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(md5(as_bytes("abc"))), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(to_base64(md5(as_bytes(""))), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(to_hex(hmac_sha256(as_bytes("key"), as_bytes("The quick brown fox jumps over the lazy dog"))),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST(Digests, FiltersHashWhatPassesThrough) {
  Collect downstream;
  Md5Sink md5_sink(&downstream);
  Sha256Sink sha_sink(&md5_sink);
  sha_sink.write(as_bytes("a"));
  sha_sink.write(as_bytes("bc"));
  sha_sink.finish();
  EXPECT_EQ(downstream.data, "abc");
  EXPECT_TRUE(downstream.finished);
  EXPECT_EQ(sha_sink.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(md5_sink.hex(), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_sink.size(), 3u);
}

}  // namespace
}  // namespace shardsafe::storage

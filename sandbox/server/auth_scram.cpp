#include "server/auth_scram.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace sandbox {
namespace {

using Bytes = std::vector<unsigned char>;

struct Mechanism {
  const EVP_MD* digest;
  int salt_bytes;
  int iterations;
};

Mechanism mechanism_for(const std::string& name) {
  if (name == kScramSha1) return {EVP_sha1(), 16, 10000};
  if (name == kScramSha256) return {EVP_sha256(), 28, 15000};
  throw_error(2, "BadValue", "Unknown auth mechanism '" + name + "'");
}

Bytes digest(const EVP_MD* md, const Bytes& data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &length, md, nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  out.resize(length);
  return out;
}

Bytes hmac(const EVP_MD* md, const Bytes& key, std::string_view message) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
           &length) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  out.resize(length);
  return out;
}

std::string base64(const Bytes& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                               static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::string hex(const Bytes& data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : data) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xf]);
  }
  return out;
}

// The password SCRAM hashes: MongoDB's MD5 pre-digest for SHA-1; for SHA-256 the SASLprep'd
// password, which is the password itself when it is printable ASCII.
std::string scram_password(const std::string& mechanism, const std::string& user,
                           const std::string& password) {
  if (mechanism == kScramSha1) {
    std::string legacy = user + ":mongo:" + password;
    return hex(digest(EVP_md5(), Bytes(legacy.begin(), legacy.end())));
  }
  bool printable_ascii = std::all_of(password.begin(), password.end(),
                                     [](char c) { return c >= 0x20 && c < 0x7f; });
  if (!printable_ascii) {
    throw_error(2, "BadValue",
                "the sandbox does not SASLprep passwords: use printable ASCII for SCRAM-SHA-256");
  }
  return password;
}

}  // namespace

Doc scram_credential(const std::string& mechanism, const std::string& user,
                     const std::string& password) {
  Mechanism spec = mechanism_for(mechanism);
  std::string secret = scram_password(mechanism, user, password);
  Bytes salt(static_cast<std::size_t>(spec.salt_bytes));
  if (RAND_bytes(salt.data(), spec.salt_bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  Bytes salted(static_cast<std::size_t>(EVP_MD_get_size(spec.digest)));
  if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()), salt.data(),
                        spec.salt_bytes, spec.iterations, spec.digest,
                        static_cast<int>(salted.size()), salted.data()) != 1) {
    throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  }
  Bytes client_key = hmac(spec.digest, salted, "Client Key");
  Bytes server_key = hmac(spec.digest, salted, "Server Key");
  Builder out;
  BSON_APPEND_INT32(out.get(), "iterationCount", spec.iterations);
  BSON_APPEND_UTF8(out.get(), "salt", base64(salt).c_str());
  BSON_APPEND_UTF8(out.get(), "storedKey", base64(digest(spec.digest, client_key)).c_str());
  BSON_APPEND_UTF8(out.get(), "serverKey", base64(server_key).c_str());
  return out.doc();
}

}  // namespace sandbox

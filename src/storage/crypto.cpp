#include "storage/crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "common/error.h"
#include "storage/hash.h"

namespace shardsafe::storage {
namespace {

constexpr std::string_view kMagic = "SSGC";
constexpr std::uint8_t kFormatVersion = 1;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kNoncePrefixSize = 8;
constexpr std::size_t kKeySize = 32;

struct FreeCipher {
  void operator()(EVP_CIPHER_CTX* context) const noexcept { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, FreeCipher>;

void put_be(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

std::uint64_t get_be(std::span<const std::uint8_t> in) {
  std::uint64_t value = 0;
  for (const auto byte : in) value = (value << 8) | byte;
  return value;
}

std::vector<std::uint8_t> nonce_for(std::span<const std::uint8_t> prefix, std::uint64_t counter) {
  std::vector<std::uint8_t> nonce(prefix.begin(), prefix.end());
  put_be(nonce, counter, 4);
  return nonce;
}

std::vector<std::uint8_t> aad_for(std::span<const std::uint8_t> header, std::uint64_t counter, bool final) {
  std::vector<std::uint8_t> aad(header.begin(), header.end());
  put_be(aad, counter, 8);
  aad.push_back(final ? 1 : 0);
  return aad;
}

// One AES-256-GCM operation over a whole chunk. Returns false when decryption fails to
// authenticate. `out` receives plaintext.size() bytes (plus the tag when encrypting).
bool gcm_chunk(bool encrypt, std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
               std::span<const std::uint8_t> aad, std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out) {
  CipherContext context(EVP_CIPHER_CTX_new());
  const auto body = encrypt ? in : in.first(in.size() - kTagSize);
  out.resize(body.size() + (encrypt ? kTagSize : 0));
  int length = 0;
  const auto ok = [](int result) {
    if (result != 1) throw Error(ErrorCode::kInternal, "AES-256-GCM setup failed");
  };
  ok(context ? 1 : 0);
  ok(EVP_CipherInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt ? 1 : 0));
  ok(EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr));
  ok(EVP_CipherInit_ex(context.get(), nullptr, nullptr, key.data(), nonce.data(), -1));
  ok(EVP_CipherUpdate(context.get(), nullptr, &length, aad.data(), static_cast<int>(aad.size())));
  ok(EVP_CipherUpdate(context.get(), out.data(), &length, body.data(), static_cast<int>(body.size())));
  if (!encrypt) {
    auto* tag = const_cast<std::uint8_t*>(in.data() + body.size());  // OpenSSL takes void*
    ok(EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag));
  }
  int final_length = 0;
  if (EVP_CipherFinal_ex(context.get(), out.data() + length, &final_length) != 1) return false;
  if (encrypt) ok(EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, out.data() + body.size()));
  return true;
}

class EncryptSink : public Sink {
 public:
  EncryptSink(const EncryptionKey& key, Sink& next, std::size_t chunk_size)
      : key_(key.bytes), next_(next), chunk_size_(chunk_size) {
    if (key_.size() != kKeySize) throw Error(ErrorCode::kInvalidArgument, "encryption key must be 32 bytes");
    std::vector<std::uint8_t> prefix(kNoncePrefixSize);
    if (RAND_bytes(prefix.data(), static_cast<int>(prefix.size())) != 1) {
      throw Error(ErrorCode::kInternal, "no random bytes for the encryption nonce");
    }
    header_.assign(kMagic.begin(), kMagic.end());
    header_.push_back(kFormatVersion);
    put_be(header_, chunk_size_, 4);
    header_.push_back(static_cast<std::uint8_t>(key.id.size()));
    header_.insert(header_.end(), key.id.begin(), key.id.end());
    header_.insert(header_.end(), prefix.begin(), prefix.end());
    nonce_prefix_ = prefix;
    plain_.reserve(chunk_size_);
  }

  void write(std::span<const std::uint8_t> bytes) override {
    if (!header_written_) {
      next_.write(header_);
      header_written_ = true;
    }
    while (!bytes.empty()) {
      // A full chunk is sealed only when more bytes arrive, because the last chunk must be
      // shorter than chunk_size (see the format above).
      if (plain_.size() == chunk_size_) seal(false);
      const auto n = std::min(bytes.size(), chunk_size_ - plain_.size());
      plain_.insert(plain_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      bytes = bytes.subspan(n);
    }
  }

  void finish() override {
    if (!header_written_) next_.write(header_);
    header_written_ = true;
    if (plain_.size() == chunk_size_) seal(false);
    seal(true);
    next_.finish();
  }

 private:
  void seal(bool final) {
    if (counter_ > 0xffffffffull) throw Error(ErrorCode::kInvalidArgument, "stream too long to encrypt");
    gcm_chunk(true, key_, nonce_for(nonce_prefix_, counter_), aad_for(header_, counter_, final), plain_, sealed_);
    next_.write(sealed_);
    plain_.clear();
    ++counter_;
  }

  std::vector<std::uint8_t> key_;
  Sink& next_;
  std::size_t chunk_size_;
  std::vector<std::uint8_t> header_;
  std::vector<std::uint8_t> nonce_prefix_;
  std::vector<std::uint8_t> plain_;
  std::vector<std::uint8_t> sealed_;
  std::uint64_t counter_ = 0;
  bool header_written_ = false;
};

class DecryptSource : public Source {
 public:
  DecryptSource(const EncryptionKey& key, Source& inner, std::string object)
      : key_(key), inner_(inner), object_(std::move(object)) {}

  std::size_t read(std::span<std::uint8_t> buffer) override {
    if (!header_read_) read_header();
    while (position_ == plain_.size()) {
      if (done_) return 0;
      open_next_chunk();
    }
    const auto n = std::min(buffer.size(), plain_.size() - position_);
    std::copy_n(plain_.begin() + static_cast<std::ptrdiff_t>(position_), n, buffer.begin());
    position_ += n;
    return n;
  }

 private:
  [[noreturn]] void corrupt(const std::string& why) const {
    throw Error(ErrorCode::kCorruptData, "encrypted object \"" + object_ + "\" is corrupt: " + why);
  }

  std::size_t read_exact(std::span<std::uint8_t> buffer) {
    std::size_t total = 0;
    while (total < buffer.size()) {
      const auto got = inner_.read(buffer.subspan(total));
      if (got == 0) break;
      total += got;
    }
    return total;
  }

  void read_header() {
    std::vector<std::uint8_t> fixed(kMagic.size() + 1 + 4 + 1);
    if (read_exact(fixed) != fixed.size()) corrupt("truncated header");
    if (!std::equal(kMagic.begin(), kMagic.end(), fixed.begin())) corrupt("not a shardsafe encrypted stream");
    if (fixed[4] != kFormatVersion) {
      throw Error(ErrorCode::kUnsupportedVersion, "encrypted object \"" + object_ + "\" has format version " +
                                                      std::to_string(fixed[4]) + ", this build reads version 1");
    }
    chunk_size_ = get_be(std::span(fixed).subspan(5, 4));
    if (chunk_size_ == 0 || chunk_size_ > (64u << 20)) corrupt("implausible chunk size");
    std::vector<std::uint8_t> rest(fixed.back() + kNoncePrefixSize);
    if (read_exact(rest) != rest.size()) corrupt("truncated header");
    const std::string stored_id(rest.begin(), rest.end() - kNoncePrefixSize);
    if (stored_id != key_.id) {
      throw Error(ErrorCode::kWrongKey, "object \"" + object_ + "\" was encrypted with key id " + stored_id +
                                            ", not with the given key (id " + key_.id + ")");
    }
    nonce_prefix_.assign(rest.end() - kNoncePrefixSize, rest.end());
    header_ = fixed;
    header_.insert(header_.end(), rest.begin(), rest.end());
    sealed_.resize(chunk_size_ + kTagSize);
    header_read_ = true;
  }

  void open_next_chunk() {
    const auto got = read_exact(sealed_);
    const bool final = got < sealed_.size();
    if (got < kTagSize) corrupt("the stream is truncated after chunk " + std::to_string(counter_));
    const auto chunk = std::span<const std::uint8_t>(sealed_).first(got);
    if (!gcm_chunk(false, key_.bytes, nonce_for(nonce_prefix_, counter_), aad_for(header_, counter_, final), chunk,
                   plain_)) {
      corrupt("chunk " + std::to_string(counter_) + " failed authentication (tampered or truncated)");
    }
    if (final) {
      std::uint8_t extra = 0;
      if (inner_.read(std::span(&extra, 1)) != 0) corrupt("bytes after the final chunk");
      done_ = true;
    }
    position_ = 0;
    ++counter_;
  }

  EncryptionKey key_;
  Source& inner_;
  std::string object_;
  std::vector<std::uint8_t> header_;
  std::vector<std::uint8_t> nonce_prefix_;
  std::vector<std::uint8_t> sealed_;
  std::vector<std::uint8_t> plain_;
  std::size_t position_ = 0;
  std::uint64_t chunk_size_ = 0;
  std::uint64_t counter_ = 0;
  bool header_read_ = false;
  bool done_ = false;
};

std::vector<std::uint8_t> decode_hex_key(std::string text, const std::string& origin) {
  text.erase(std::remove_if(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); }), text.end());
  const auto bad = [&] {
    return Error(ErrorCode::kInvalidArgument,
                 "encryption key from " + origin + " must be 32 raw bytes or 64 hexadecimal characters");
  };
  if (text.size() != 2 * kKeySize) throw bad();
  std::vector<std::uint8_t> key;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const auto digit = [&](char c) -> int {
      if (!std::isxdigit(static_cast<unsigned char>(c))) throw bad();
      return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10);
    };
    key.push_back(static_cast<std::uint8_t>(digit(text[i]) * 16 + digit(text[i + 1])));
  }
  return key;
}

EncryptionKey make_key(std::vector<std::uint8_t> bytes) {
  EncryptionKey key;
  key.id = key_id_of(bytes);
  key.bytes = std::move(bytes);
  return key;
}

}  // namespace

std::string key_id_of(std::span<const std::uint8_t> key) {
  // Domain-separated so the id is not the plain SHA-256 of the key used anywhere else.
  Digest digest(DigestAlgorithm::kSha256);
  digest.update(as_bytes("shardsafe key id v1:"));
  digest.update(key);
  return digest.final_hex().substr(0, 16);
}

std::unique_ptr<Sink> make_encrypt_sink(const EncryptionKey& key, Sink& next, std::size_t chunk_size) {
  return std::make_unique<EncryptSink>(key, next, chunk_size);
}

std::unique_ptr<Source> make_decrypt_source(const EncryptionKey& key, Source& inner, const std::string& object) {
  return std::make_unique<DecryptSource>(key, inner, object);
}

EncryptionKey load_key_from_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorCode::kInvalidArgument, "cannot read encryption key file \"" + path + "\"");
  std::string content;
  content.resize(4096);
  file.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<std::size_t>(file.gcount()));
  if (content.size() == kKeySize) return make_key(std::vector<std::uint8_t>(content.begin(), content.end()));
  return make_key(decode_hex_key(std::move(content), "file \"" + path + "\""));
}

EncryptionKey load_key_from_env(const std::string& variable) {
  const char* value = std::getenv(variable.c_str());
  if (value == nullptr || *value == '\0') {
    throw Error(ErrorCode::kInvalidArgument, "environment variable " + variable + " (encryption key) is not set");
  }
  return make_key(decode_hex_key(value, "environment variable " + variable));
}

EncryptionKey key_from_hex(const std::string& hex, const std::string& what) { return make_key(decode_hex_key(hex, what)); }

}  // namespace shardsafe::storage

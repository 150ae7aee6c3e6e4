// Digests on OpenSSL EVP (SHA-256, MD5, HMAC-SHA256), each context owned by RAII.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/stream.h"

struct evp_md_ctx_st;

namespace shardsafe::storage {

// Lowercase hex of `bytes`.
std::string to_hex(std::span<const std::uint8_t> bytes);
// Base64 (standard alphabet, padded), as HTTP headers such as Content-MD5 want it.
std::string to_base64(std::span<const std::uint8_t> bytes);

inline std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

enum class DigestAlgorithm { kSha256, kMd5 };

// An incremental digest. Not thread-safe; final() may be called once.
class Digest {
 public:
  explicit Digest(DigestAlgorithm algorithm);
  ~Digest();
  Digest(Digest&&) noexcept;
  Digest& operator=(Digest&&) noexcept;

  void update(std::span<const std::uint8_t> bytes);
  std::vector<std::uint8_t> final();
  std::string final_hex() { return to_hex(final()); }

 private:
  struct FreeContext {
    void operator()(evp_md_ctx_st* context) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, FreeContext> context_;
};

std::vector<std::uint8_t> sha256(std::span<const std::uint8_t> bytes);
std::string sha256_hex(std::span<const std::uint8_t> bytes);
std::vector<std::uint8_t> md5(std::span<const std::uint8_t> bytes);
std::vector<std::uint8_t> hmac_sha256(std::span<const std::uint8_t> key,
                                      std::span<const std::uint8_t> message);

// A pass-through filter that digests every byte on its way to `next` (which may be null: then
// it only digests). The digest is available after finish().
class DigestSink : public Sink {
 public:
  DigestSink(DigestAlgorithm algorithm, Sink* next);
  void write(std::span<const std::uint8_t> bytes) override;
  void finish() override;
  // REQUIRES: finish() was called.
  const std::string& hex() const { return hex_; }
  std::uint64_t size() const { return size_; }

 private:
  Digest digest_;
  Sink* next_;
  std::uint64_t size_ = 0;
  std::string hex_;
};

// The seed design's names for the two filters.
class Sha256Sink : public DigestSink {
 public:
  explicit Sha256Sink(Sink* next = nullptr) : DigestSink(DigestAlgorithm::kSha256, next) {}
};
class Md5Sink : public DigestSink {
 public:
  explicit Md5Sink(Sink* next = nullptr) : DigestSink(DigestAlgorithm::kMd5, next) {}
};

}  // namespace shardsafe::storage

#include "storage/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/error.h"

namespace shardsafe::storage {

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const auto byte : bytes) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xf];
  }
  return hex;
}

std::string to_base64(std::span<const std::uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

void Digest::FreeContext::operator()(evp_md_ctx_st* context) const noexcept { EVP_MD_CTX_free(context); }

Digest::Digest(DigestAlgorithm algorithm) : context_(EVP_MD_CTX_new()) {
  const EVP_MD* md = algorithm == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_md5();
  if (!context_ || EVP_DigestInit_ex(context_.get(), md, nullptr) != 1) {
    throw Error(ErrorCode::kInternal, "cannot initialise a digest context");
  }
}

Digest::~Digest() = default;
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;

void Digest::update(std::span<const std::uint8_t> bytes) {
  if (EVP_DigestUpdate(context_.get(), bytes.data(), bytes.size()) != 1) {
    throw Error(ErrorCode::kInternal, "digest update failed");
  }
}

std::vector<std::uint8_t> Digest::final() {
  std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_.get(), out.data(), &length) != 1) {
    throw Error(ErrorCode::kInternal, "digest final failed");
  }
  out.resize(length);
  return out;
}

std::vector<std::uint8_t> sha256(std::span<const std::uint8_t> bytes) {
  Digest digest(DigestAlgorithm::kSha256);
  digest.update(bytes);
  return digest.final();
}

std::string sha256_hex(std::span<const std::uint8_t> bytes) { return to_hex(sha256(bytes)); }

std::vector<std::uint8_t> md5(std::span<const std::uint8_t> bytes) {
  Digest digest(DigestAlgorithm::kMd5);
  digest.update(bytes);
  return digest.final();
}

std::vector<std::uint8_t> hmac_sha256(std::span<const std::uint8_t> key,
                                      std::span<const std::uint8_t> message) {
  std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
           out.data(), &length) == nullptr) {
    throw Error(ErrorCode::kInternal, "HMAC-SHA256 failed");
  }
  out.resize(length);
  return out;
}

DigestSink::DigestSink(DigestAlgorithm algorithm, Sink* next) : digest_(algorithm), next_(next) {}

void DigestSink::write(std::span<const std::uint8_t> bytes) {
  digest_.update(bytes);
  size_ += bytes.size();
  if (next_) next_->write(bytes);
}

void DigestSink::finish() {
  hex_ = digest_.final_hex();
  if (next_) next_->finish();
}

}  // namespace shardsafe::storage

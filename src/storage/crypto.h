// Client-side encryption: AES-256-GCM in authenticated chunks, so it streams.
//
// Format (version 1), documented here because restores years from now depend on it:
//   header  = "SSGC" | version u8 (=1) | chunk_size u32 BE | key_id_length u8 | key_id
//             | nonce_prefix (8 random bytes, new for every stream)
//   chunk i = AES-256-GCM(plaintext_i) | 16-byte tag
//             nonce = nonce_prefix | i as u32 BE
//             AAD   = header | i as u64 BE | final flag u8 (1 on the last chunk, else 0)
// Every chunk but the last holds exactly chunk_size plaintext bytes; the last holds fewer
// (possibly zero), so the reader knows which chunk is final from its length and the final
// flag authenticates that: a stream cut at a chunk boundary or inside a chunk fails, and
// chunks cannot be reordered (the counter) or moved between streams (the random prefix in
// the header, which the AAD covers).
#pragma once

#include <memory>
#include <string>

#include "storage/pipeline.h"
#include "storage/stream.h"

namespace shardsafe::storage {

inline constexpr std::size_t kEncryptionChunkSize = 64 * 1024;

// The id recorded for a key: a hash prefix (16 hex characters), never the key itself.
std::string key_id_of(std::span<const std::uint8_t> key);

// Encrypts into `next` (not owned). REQUIRES: key.bytes.size() == 32.
std::unique_ptr<Sink> make_encrypt_sink(const EncryptionKey& key, Sink& next,
                                        std::size_t chunk_size = kEncryptionChunkSize);

// Decrypts `inner` (not owned). A header naming another key id is Error(kWrongKey) naming
// `object`; a chunk that fails authentication, a truncated stream or trailing bytes are
// Error(kCorruptData) naming `object`.
std::unique_ptr<Source> make_decrypt_source(const EncryptionKey& key, Source& inner, const std::string& object);

}  // namespace shardsafe::storage

// manifest.json as read back from storage. Most mutations would stop at the checksum, so the
// input is also parsed re-signed with its own checksum, which lets the field checks be fuzzed.
// What manifest_to_json writes of a manifest that was read must read back.
#include <nlohmann/json.hpp>

#include <optional>

#include "catalog/manifest_json.h"
#include "fuzz_support.h"
#include "storage/hash.h"

namespace {

using shardsafe::catalog::Manifest;

std::optional<Manifest> parse(std::string_view text) {
  std::optional<Manifest> manifest;
  shardsafe::fuzz::refusing_errors([&] { manifest = shardsafe::catalog::manifest_from_json(text, "fuzz"); });
  return manifest;
}

// The checksum as catalog/README.md defines it: SHA-256 of the compact, key-sorted JSON.
std::string resigned(nlohmann::json document) {
  document.erase("checksum");
  document["checksum"] = shardsafe::storage::sha256_hex(shardsafe::storage::as_bytes(document.dump()));
  return document.dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = shardsafe::fuzz::as_text(data, size);
  std::optional<Manifest> manifest = parse(text);
  if (!manifest) {
    const auto document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (document.is_object()) manifest = parse(resigned(document));
  }
  if (manifest) shardsafe::catalog::manifest_from_json(shardsafe::catalog::manifest_to_json(*manifest), manifest->id);
  return 0;
}

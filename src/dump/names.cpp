#include "dump/names.h"

#include <openssl/evp.h>

#include <array>

#include "common/error.h"

namespace shardsafe::dump {
namespace {

constexpr std::size_t kMaxEscapedLength = 238;
constexpr std::size_t kTruncatedPrefixLength = 208;
constexpr std::string_view kUpperHex = "0123456789ABCDEF";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// base64url without padding of SHA-1(raw): 27 characters.
std::string sha1_base64url(std::string_view raw) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_length = 0;
  if (EVP_Digest(raw.data(), raw.size(), digest.data(), &digest_length, EVP_sha1(), nullptr) != 1) {
    throw Error(ErrorCode::kInternal, "sha-1 of a collection name failed");
  }
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
  const int length = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_length));
  std::string out(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(length));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::string query_escape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (const char signed_c : raw) {
    const auto c = static_cast<unsigned char>(signed_c);
    if (is_unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[c >> 4]);
      out.push_back(kUpperHex[c & 0xF]);
    }
  }
  return out;
}

std::string query_unescape(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      const bool complete = i + 2 < escaped.size();
      const int high = complete ? hex_value(escaped[i + 1]) : -1;
      const int low = complete ? hex_value(escaped[i + 2]) : -1;
      if (high < 0 || low < 0) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid escape in file name \"" + std::string(escaped) + "\": '%' must be followed by two hex digits");
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return out;
}

std::string dump_file_stem(std::string_view name) {
  std::string escaped = query_escape(name);
  if (escaped.size() <= kMaxEscapedLength) return escaped;
  escaped.resize(kTruncatedPrefixLength);
  return escaped + "%24" + sha1_base64url(name);
}

std::string collection_data_key(std::string_view prefix, std::string_view db, std::string_view collection) {
  return std::string(prefix) + dump_file_stem(db) + "/" + dump_file_stem(collection) + ".bson";
}

std::string collection_metadata_key(std::string_view prefix, std::string_view db, std::string_view collection) {
  return std::string(prefix) + dump_file_stem(db) + "/" + dump_file_stem(collection) + ".metadata.json";
}

std::string oplog_key(std::string_view prefix) { return std::string(prefix) + "oplog.bson"; }

std::optional<DumpFile> parse_dump_file(std::string_view relative_path) {
  const auto slash = relative_path.find('/');
  if (slash == std::string_view::npos || slash == 0 ||
      relative_path.find('/', slash + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  DumpFile file;
  std::string_view name = relative_path.substr(slash + 1);
  for (const std::string_view suffix : {".gz", ".zst"}) {
    if (ends_with(name, suffix)) {
      file.compression_suffix = suffix;
      name.remove_suffix(suffix.size());
      break;
    }
  }
  if (ends_with(name, ".metadata.json")) {
    file.kind = DumpFile::Kind::kMetadata;
    name.remove_suffix(std::string_view(".metadata.json").size());
  } else if (ends_with(name, ".bson")) {
    file.kind = DumpFile::Kind::kData;
    name.remove_suffix(std::string_view(".bson").size());
  } else {
    return std::nullopt;
  }
  if (name.empty()) return std::nullopt;
  try {
    file.db = query_unescape(relative_path.substr(0, slash));
    file.collection = query_unescape(name);
  } catch (const Error&) {
    return std::nullopt;
  }
  return file;
}

}  // namespace shardsafe::dump

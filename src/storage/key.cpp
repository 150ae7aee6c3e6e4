#include "storage/key.h"

#include <string_view>

#include "common/error.h"

namespace shardsafe::storage {
namespace {

[[noreturn]] void reject(const std::string& what, const std::string& key, const char* why) {
  throw Error(ErrorCode::kInvalidArgument, what + " \"" + key + "\" is invalid: " + why);
}

void validate_segments(const std::string& what, const std::string& text) {
  if (text.find('\0') != std::string::npos || text.find('\\') != std::string::npos) {
    reject(what, text, "NUL and backslash are not allowed");
  }
  if (!text.empty() && text.front() == '/') reject(what, text, "it must be relative");
  std::string_view rest(text);
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const auto segment = rest.substr(0, slash);
    if (segment.empty()) reject(what, text, "empty path segment");
    if (segment == "." || segment == "..") reject(what, text, "'.' and '..' segments are not allowed");
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
}

}  // namespace

void validate_key(const std::string& key) {
  if (key.empty()) reject("key", key, "it is empty");
  if (key.back() == '/') reject("key", key, "it ends with '/'");
  validate_segments("key", key);
}

void validate_prefix(const std::string& prefix) {
  if (prefix.empty()) return;
  const bool directory = prefix.back() == '/';
  validate_segments("prefix", directory ? prefix.substr(0, prefix.size() - 1) : prefix);
  if (directory && prefix.size() == 1) reject("prefix", prefix, "it must be relative");
}

}  // namespace shardsafe::storage

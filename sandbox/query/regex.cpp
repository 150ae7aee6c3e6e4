#include "query/regex.h"

#include "query/document.h"

namespace sandbox {
namespace {

// Rewrites the pattern for the s and x options; tracks escapes and [...] classes so only
// the characters PCRE would treat specially are touched.
std::string rewrite_pattern(const std::string& pattern, bool dot_all, bool extended) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      out += c;
      out += pattern[++i];
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (extended && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')) {
      continue;
    }
    if (extended && c == '#') {
      while (i < pattern.size() && pattern[i] != '\n') ++i;
      continue;
    }
    if (dot_all && c == '.') {
      out += "[\\s\\S]";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

Regex::Regex(std::string pattern, std::string options)
    : pattern_(std::move(pattern)), options_(std::move(options)) {
  auto flags = std::regex::ECMAScript;
  bool dot_all = false, extended = false;
  for (char c : options_) {
    switch (c) {
      case 'i':
        flags |= std::regex::icase;
        break;
      case 'm':
        flags |= std::regex::multiline;
        break;
      case 's':
        dot_all = true;
        break;
      case 'x':
        extended = true;
        break;
      case 'u':
        break;  // UTF-8 mode: the default for MongoDB, a no-op here
      default:
        throw_bad_value(std::string("invalid flag in regex options: ") + c);
    }
  }
  try {
    re_ = std::regex(rewrite_pattern(pattern_, dot_all, extended), flags);
  } catch (const std::regex_error& e) {
    throw CommandError(51091, "Location51091",
                       "Regular expression is invalid: " + std::string(e.what()));
  }
}

bool Regex::search(std::string_view text) const {
  return std::regex_search(text.begin(), text.end(), re_);
}

}  // namespace sandbox

// $regex support on std::regex (ECMAScript grammar).
//
// MongoDB uses PCRE; std::regex's ECMAScript grammar covers the common subset (classes,
// anchors, groups, alternation, lazy quantifiers, lookahead, backreferences). Not supported
// (they fail to compile and raise error 51091): lookbehind (?<=..), named groups (?<n>..),
// possessive quantifiers, atomic groups, \A \z \Z, inline flags (?i), Unicode classes \p{..}.
// Matching is on bytes, not UTF-8 code points, so "." matches one byte of a multi-byte
// character. Options: i (case-insensitive), m (^ and $ at line breaks), s ("." matches
// newlines, done by rewriting "." outside classes to [\s\S]), x (extended: unescaped whitespace
// and #-comments outside classes are removed before compiling).
#pragma once

#include <regex>
#include <string>
#include <string_view>

namespace sandbox {

class Regex {
 public:
  // throws CommandError: BadValue for an unknown option, 51091 for an invalid pattern.
  Regex(std::string pattern, std::string options);
  bool search(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }
  const std::string& options() const { return options_; }

 private:
  std::string pattern_;
  std::string options_;
  std::regex re_;
};

}  // namespace sandbox

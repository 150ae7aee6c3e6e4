#include "dump/namespace_filter.h"

#include <algorithm>
#include <set>

#include "common/error.h"

namespace shardsafe::dump {
namespace {

[[noreturn]] void invalid(std::string_view pattern, const std::string& problem) {
  throw Error(ErrorCode::kInvalidArgument, "invalid namespace pattern \"" + std::string(pattern) + "\": " + problem);
}

}  // namespace

NamespacePattern::NamespacePattern(std::string_view pattern, bool allow_variables) : text_(pattern) {
  if (pattern.empty()) invalid(pattern, "it is empty");
  std::set<std::string> names;
  auto literal = [&]() -> std::string& {
    if (tokens_.empty() || tokens_.back().wildcard) tokens_.push_back({});
    return tokens_.back().literal;
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 == pattern.size()) invalid(pattern, "it ends with a lone '\\'");
      literal().push_back(pattern[++i]);
    } else if (c == '*') {
      tokens_.push_back({true, "", ""});
    } else if (c == '$' && allow_variables) {
      const auto close = pattern.find('$', i + 1);
      if (close == std::string_view::npos) invalid(pattern, "a '$' variable is not closed by another '$'");
      std::string name(pattern.substr(i + 1, close - i - 1));
      if (name.empty()) invalid(pattern, "a variable has an empty name (\"$$\"; write \\$ for a literal '$')");
      if (!names.insert(name).second) invalid(pattern, "variable $" + name + "$ appears twice");
      tokens_.push_back({true, "", std::move(name)});
      i = close;
    } else {
      literal().push_back(c);
    }
  }
}

bool NamespacePattern::match_from(std::size_t token, std::string_view rest, std::vector<std::string>& captures) const {
  if (token == tokens_.size()) return rest.empty();
  const Token& current = tokens_[token];
  if (!current.wildcard) {
    return rest.starts_with(current.literal) && match_from(token + 1, rest.substr(current.literal.size()), captures);
  }
  // Shortest first: the smallest valid occurrence, as mongorestore documents.
  for (std::size_t length = 0; length <= rest.size(); ++length) {
    captures.emplace_back(rest.substr(0, length));
    if (match_from(token + 1, rest.substr(length), captures)) return true;
    captures.pop_back();
  }
  return false;
}

bool NamespacePattern::capture(std::string_view ns, std::vector<std::string>& captures) const {
  captures.clear();
  return match_from(0, ns, captures);
}

bool NamespacePattern::matches(std::string_view ns) const {
  std::vector<std::string> captures;
  return capture(ns, captures);
}

NamespaceFilter::NamespaceFilter(const std::vector<std::string>& include, const std::vector<std::string>& exclude,
                                 const std::vector<std::string>& from, const std::vector<std::string>& to) {
  for (const auto& pattern : include) include_.emplace_back(pattern, false);
  for (const auto& pattern : exclude) exclude_.emplace_back(pattern, false);
  if (from.size() != to.size()) {
    throw Error(ErrorCode::kInvalidArgument, "--ns-from is given " + std::to_string(from.size()) + " times and --ns-to " +
                                                 std::to_string(to.size()) + " times: they must come in pairs");
  }
  for (std::size_t i = 0; i < from.size(); ++i) {
    Rename rename{NamespacePattern(from[i], true), NamespacePattern(to[i], true)};
    std::set<std::string> defined;
    std::size_t from_stars = 0;
    for (const auto& token : rename.from.tokens()) {
      if (token.wildcard && token.name.empty()) ++from_stars;
      if (token.wildcard && !token.name.empty()) defined.insert(token.name);
    }
    std::size_t to_stars = 0;
    for (const auto& token : rename.to.tokens()) {
      if (token.wildcard && token.name.empty()) ++to_stars;
      if (token.wildcard && !token.name.empty() && !defined.contains(token.name)) {
        invalid(to[i], "variable $" + token.name + "$ is not defined by --ns-from \"" + from[i] + "\"");
      }
    }
    if (to_stars > from_stars) {
      invalid(to[i], "it has " + std::to_string(to_stars) + " '*' but --ns-from \"" + from[i] + "\" has " +
                         std::to_string(from_stars));
    }
    renames_.push_back(std::move(rename));
  }
}

bool NamespaceFilter::selected(std::string_view ns) const {
  const auto matches = [ns](const NamespacePattern& pattern) { return pattern.matches(ns); };
  if (!include_.empty() && std::none_of(include_.begin(), include_.end(), matches)) return false;
  return std::none_of(exclude_.begin(), exclude_.end(), matches);
}

std::string NamespaceFilter::rename(std::string_view ns) const {
  std::vector<std::string> captures;
  for (const auto& [from, to] : renames_) {
    if (!from.capture(ns, captures)) continue;
    // Captures come in the order of from's wildcards: stars in order, variables by name.
    std::vector<std::string> stars;
    std::vector<std::pair<std::string, std::string>> variables;
    for (std::size_t i = 0, w = 0; i < from.tokens().size(); ++i) {
      const auto& token = from.tokens()[i];
      if (!token.wildcard) continue;
      if (token.name.empty()) {
        stars.push_back(captures[w]);
      } else {
        variables.emplace_back(token.name, captures[w]);
      }
      ++w;
    }
    std::string out;
    std::size_t next_star = 0;
    for (const auto& token : to.tokens()) {
      if (!token.wildcard) {
        out += token.literal;
      } else if (token.name.empty()) {
        out += stars[next_star++];
      } else {
        out += std::find_if(variables.begin(), variables.end(), [&](const auto& v) { return v.first == token.name; })->second;
      }
    }
    return out;
  }
  return std::string(ns);
}

std::pair<std::string, std::string> split_namespace(std::string_view ns) {
  const auto dot = ns.find('.');
  if (dot == std::string_view::npos) return {std::string(ns), ""};
  return {std::string(ns.substr(0, dot)), std::string(ns.substr(dot + 1))};
}

}  // namespace shardsafe::dump

// mongorestore's namespace selection and renaming: --nsInclude, --nsExclude, --nsFrom/--nsTo.
//
// Patterns are matched against whole "db.collection" strings:
//   *        any run of characters (dots included), matching its smallest valid occurrence
//   \* \\ \$ a literal '*', '\' or '$'
//   $name$   (in --nsFrom and --nsTo only) a wildcard that captures into variable `name`
// A namespace is selected when it matches some include (or there are none) and no exclude:
// includes are applied first, then excludes. Selection looks at the source namespace, before
// any rename. Renames pair the i-th --nsFrom with the i-th --nsTo; the first --nsFrom that
// matches wins. In --nsTo, each '*' takes the text the corresponding '*' of --nsFrom matched
// (in order) and each $name$ the text its variable captured:
//   --nsFrom 'prod.*' --nsTo 'staging.*'      prod.users -> staging.users
//   --nsFrom 'data.$p$_$s$' --nsTo '$s$.$p$'  data.us_orders -> orders.us
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shardsafe::dump {

class NamespacePattern {
 public:
  // Throws Error(kInvalidArgument) quoting the pattern for an empty pattern, a trailing '\',
  // an unterminated or empty $name$, or a variable used twice. `allow_variables` false makes
  // '$' literal (include and exclude patterns).
  NamespacePattern(std::string_view pattern, bool allow_variables);

  bool matches(std::string_view ns) const;
  // The texts of the pattern's wildcards in order, or false when it does not match.
  bool capture(std::string_view ns, std::vector<std::string>& captures) const;

  const std::string& text() const { return text_; }

  // A literal run or one wildcard; `name` is empty for '*'.
  struct Token {
    bool wildcard = false;
    std::string literal;
    std::string name;
  };
  const std::vector<Token>& tokens() const { return tokens_; }

 private:
  bool match_from(std::size_t token, std::string_view rest, std::vector<std::string>& captures) const;

  std::string text_;
  std::vector<Token> tokens_;
};

class NamespaceFilter {
 public:
  NamespaceFilter() = default;
  // Throws Error(kInvalidArgument) when a pattern is invalid, --nsFrom and --nsTo differ in
  // number, or an --nsTo uses a variable its --nsFrom does not define or more '*' than it has.
  NamespaceFilter(const std::vector<std::string>& include, const std::vector<std::string>& exclude,
                  const std::vector<std::string>& from, const std::vector<std::string>& to);

  // Whether the source namespace "db.coll" is restored.
  bool selected(std::string_view ns) const;
  // The namespace "db.coll" is restored as (itself when no --nsFrom matches).
  std::string rename(std::string_view ns) const;

 private:
  struct Rename {
    NamespacePattern from;
    NamespacePattern to;
  };

  std::vector<NamespacePattern> include_;
  std::vector<NamespacePattern> exclude_;
  std::vector<Rename> renames_;
};

// "db.coll.with.dots" -> {"db", "coll.with.dots"}; no '.' -> {ns, ""}.
std::pair<std::string, std::string> split_namespace(std::string_view ns);

}  // namespace shardsafe::dump

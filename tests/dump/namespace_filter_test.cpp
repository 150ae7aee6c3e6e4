#include "dump/namespace_filter.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace shardsafe::dump {
namespace {

NamespaceFilter filter(std::vector<std::string> include, std::vector<std::string> exclude = {},
                       std::vector<std::string> from = {}, std::vector<std::string> to = {}) {
  return NamespaceFilter(include, exclude, from, to);
}

TEST(NamespaceFilter, NoOptionsSelectsEverythingUnchanged) {
  const NamespaceFilter none;
  EXPECT_TRUE(none.selected("a.b"));
  EXPECT_EQ(none.rename("a.b"), "a.b");
}

TEST(NamespaceFilter, IncludeAndExcludeWithWildcards) {
  // mongorestore's documented example: --nsInclude 'internal.*' --nsExclude '*.top_secret'.
  const auto f = filter({"internal.*"}, {"*.top_secret"});
  EXPECT_TRUE(f.selected("internal.users"));
  EXPECT_TRUE(f.selected("internal.a.b.c"));  // '*' spans dots
  EXPECT_FALSE(f.selected("internal.top_secret"));
  EXPECT_FALSE(f.selected("public.users"));
  EXPECT_FALSE(f.selected("internal"));

  const auto excludes = filter({}, {"tests.*", "*.test*"});
  EXPECT_FALSE(excludes.selected("tests.x"));
  EXPECT_FALSE(excludes.selected("prod.testing"));
  EXPECT_TRUE(excludes.selected("prod.users"));
  EXPECT_TRUE(excludes.selected("testsuite.x"));
}

TEST(NamespaceFilter, ExactNamesAndEscapes) {
  const auto f = filter({"test.purchaseorders", "lit.a\\*b", "dollar.$cmd", "back.a\\\\b"});
  EXPECT_TRUE(f.selected("test.purchaseorders"));
  EXPECT_FALSE(f.selected("test.purchaseorders2"));
  EXPECT_TRUE(f.selected("lit.a*b"));
  EXPECT_FALSE(f.selected("lit.axxb"));
  EXPECT_TRUE(f.selected("dollar.$cmd"));  // '$' is literal outside renames
  EXPECT_TRUE(f.selected("back.a\\b"));
}

TEST(NamespaceFilter, RenamesWithStarsCorrespondInOrder) {
  const auto f = filter({}, {}, {"prod.*", "*.user*"}, {"staging.*", "*.member*"});
  EXPECT_EQ(f.rename("prod.users"), "staging.users");
  EXPECT_EQ(f.rename("app.users"), "app.members");        // smallest match: "app" / "s"
  EXPECT_EQ(f.rename("app.user_data"), "app.member_data");
  EXPECT_EQ(f.rename("other.thing"), "other.thing");
  EXPECT_EQ(f.rename("prod.user"), "staging.user");        // the first matching pair wins
}

TEST(NamespaceFilter, RenamesWithVariables) {
  // mongorestore's documented example.
  const auto f = filter({}, {}, {"data.$prefix$_$suffix$"}, {"flights.$prefix$-$suffix$"});
  EXPECT_EQ(f.rename("data.CLT_to_ATL"), "flights.CLT-to_ATL");  // $prefix$ takes the smallest match
  const auto reorder = filter({}, {}, {"$db$.$coll$"}, {"$coll$.$db$"});
  EXPECT_EQ(reorder.rename("shop.orders.v2"), "orders.v2.shop");
  const auto dollar = filter({}, {}, {"a.\\$x"}, {"b.\\$y"});
  EXPECT_EQ(dollar.rename("a.$x"), "b.$y");
}

TEST(NamespaceFilter, SelectionLooksAtTheSourceNamespace) {
  const auto f = filter({"prod.*"}, {}, {"prod.*"}, {"staging.*"});
  EXPECT_TRUE(f.selected("prod.users"));
  EXPECT_FALSE(f.selected("staging.users"));
}

TEST(NamespaceFilter, InvalidPatternsAreRejectedNamingThem) {
  const auto expect_invalid = [](auto&& build, const std::string& fragment) {
    try {
      build();
      ADD_FAILURE() << "accepted; expected " << fragment;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
    }
  };
  expect_invalid([] { filter({""}); }, "is empty");
  expect_invalid([] { filter({"a.b\\"}); }, "\"a.b\\\"");
  expect_invalid([] { filter({}, {}, {"a.$x"}, {"b.$x$"}); }, "not closed");
  expect_invalid([] { filter({}, {}, {"a.$x$.$x$"}, {"b"}); }, "appears twice");
  expect_invalid([] { filter({}, {}, {"a.$x$"}, {"b.$y$"}); }, "$y$ is not defined");
  expect_invalid([] { filter({}, {}, {"a.*"}, {"*.*"}); }, "has 2 '*'");
  expect_invalid([] { filter({}, {}, {"a.*", "b.*"}, {"c.*"}); }, "must come in pairs");
  expect_invalid([] { filter({}, {}, {"a.$$"}, {"b"}); }, "empty name");
}

TEST(SplitNamespace, SplitsAtTheFirstDot) {
  EXPECT_EQ(split_namespace("db.coll.with.dots"), (std::pair<std::string, std::string>{"db", "coll.with.dots"}));
  EXPECT_EQ(split_namespace("db"), (std::pair<std::string, std::string>{"db", ""}));
}

}  // namespace
}  // namespace shardsafe::dump

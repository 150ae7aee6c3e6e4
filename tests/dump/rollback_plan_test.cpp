// A restore job publishes its rollback plan as JSON in its status; the coordinator undoes or
// finishes a lost job's restore from what it reads back, so the round trip must keep every
// field, and a plan that is not one must be refused by name rather than half-applied.
#include <gtest/gtest.h>

#include "common/error.h"
#include "dump/rollback_plan.h"

namespace shardsafe::dump {
namespace {

RollbackPlan sample_plan() {
  return {.restored = {"shop.orders", "shop.items"},
          .holdings = {{"shop.orders", "shop.orders.shardsafe-hold-abc"}, {"shop.items", ""}},
          .saved_users = "shardsafe.saved-users-abc",
          .saved_roles = "shardsafe.saved-roles-abc",
          .before_replay = std::nullopt};
}

void expect_same(const RollbackPlan& a, const RollbackPlan& b) {
  EXPECT_EQ(a.restored, b.restored);
  EXPECT_EQ(a.holdings, b.holdings);
  EXPECT_EQ(a.saved_users, b.saved_users);
  EXPECT_EQ(a.saved_roles, b.saved_roles);
  EXPECT_EQ(a.before_replay, b.before_replay);
}

TEST(RollbackPlan, APlanPublishedBeforeTheReplayHasNoNamespaceListAndKeepsEveryField) {
  const RollbackPlan plan = sample_plan();
  const auto json = rollback_plan_to_json(plan);
  EXPECT_FALSE(json.contains("before_replay")) << "absent, not empty: an empty list would drop every collection";
  expect_same(rollback_plan_from_json(json), plan);
}

TEST(RollbackPlan, APlanPublishedOnceRestoredCarriesTheNamespacesBeforeTheReplay) {
  RollbackPlan plan = sample_plan();
  plan.before_replay = std::vector<std::string>{"shop.orders", "shop.items", "shop.orders.shardsafe-hold-abc"};
  expect_same(rollback_plan_from_json(rollback_plan_to_json(plan)), plan);
}

TEST(RollbackPlan, AMalformedPlanIsRefusedAsCorrupt) {
  auto json = rollback_plan_to_json(sample_plan());
  json.erase("holdings");
  try {
    rollback_plan_from_json(json);
    FAIL() << "a plan without holdings was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
    EXPECT_NE(std::string(error.what()).find("holdings"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace shardsafe::dump

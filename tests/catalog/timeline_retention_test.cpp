// The timeline of restorable points and retention, on listings of backups.
#include <gtest/gtest.h>

#include "catalog/retention.h"
#include "catalog/timeline.h"
#include "common/error.h"

namespace shardsafe::catalog {
namespace {

using mongo::Timestamp;

constexpr std::uint32_t kDay = 86400;
constexpr std::uint32_t kNow = 1800000000;
const auto kNowPoint = std::chrono::system_clock::time_point(std::chrono::seconds(kNow));

BackupSummary full(const std::string& id, std::uint32_t seconds) {
  BackupSummary backup;
  backup.id = id;
  backup.kind = "full";
  backup.consistency_point = {seconds, 1};
  backup.replica_sets = {"rs1", "rs0"};
  return backup;
}

BackupSummary increment(const std::string& id, std::uint32_t from, std::uint32_t to) {
  BackupSummary backup = full(id, to);
  backup.kind = "incremental";
  backup.chain_start = {from, 1};
  return backup;
}

TEST(Timeline, IncrementsExtendTheFullBackupsTheyReach) {
  const auto timeline = build_timeline({full("a", 100), increment("b", 100, 200), increment("c", 200, 300), full("d", 250),
                                        increment("e", 300, 400)});
  ASSERT_EQ(timeline.windows.size(), 1u);
  EXPECT_EQ(timeline.windows[0].deployment, "rs0,rs1");
  EXPECT_EQ(timeline.windows[0].base_backup, "a");
  EXPECT_EQ(timeline.windows[0].full_backups, (std::vector<std::string>{"a", "d"}));
  EXPECT_EQ(timeline.windows[0].from, (Timestamp{100, 1}));
  EXPECT_EQ(timeline.windows[0].to, (Timestamp{400, 1}));
  EXPECT_TRUE(timeline.gaps.empty());
}

TEST(Timeline, AMissingSliceSplitsTheWindowsWithAGap) {
  // "c" (200..300) is gone: the chain from "a" stops at 200; "d" starts a new chain at 350.
  const auto timeline = build_timeline({full("a", 100), increment("b", 100, 200), full("d", 350), increment("e", 350, 400)});
  ASSERT_EQ(timeline.windows.size(), 2u);
  EXPECT_EQ(timeline.windows[0].to, (Timestamp{200, 1}));
  EXPECT_EQ(timeline.windows[1].from, (Timestamp{350, 1}));
  ASSERT_EQ(timeline.gaps.size(), 1u);
  EXPECT_EQ(timeline.gaps[0].from, (Timestamp{200, 1}));
  EXPECT_EQ(timeline.gaps[0].to, (Timestamp{350, 1}));
  EXPECT_NE(timeline.gaps[0].reason.find("\"a\""), std::string::npos) << timeline.gaps[0].reason;
}

TEST(Timeline, IncrementsWithoutAFullBackupAndUnreadableBackupsRestoreNothing) {
  BackupSummary broken = full("x", 50);
  broken.problem = "corrupt";
  const auto timeline = build_timeline({broken, increment("b", 100, 200)});
  EXPECT_TRUE(timeline.windows.empty());
}

TEST(Timeline, DeploymentsAreKeptApart) {
  BackupSummary other = full("z", 150);
  other.replica_sets = {"other"};
  const auto timeline = build_timeline({full("a", 100), increment("b", 100, 200), other});
  ASSERT_EQ(timeline.windows.size(), 2u);
  EXPECT_TRUE(timeline.gaps.empty());
}

std::vector<BackupSummary> daily_chain() {
  // Full backups 10, 5 and 1 days ago, increments every day in between.
  return {full("f10", kNow - 10 * kDay), increment("i9", kNow - 10 * kDay, kNow - 9 * kDay),
          increment("i6", kNow - 9 * kDay, kNow - 5 * kDay), full("f5", kNow - 5 * kDay),
          increment("i4", kNow - 5 * kDay, kNow - 4 * kDay), increment("i2", kNow - 4 * kDay, kNow - 2 * kDay),
          full("f1", kNow - kDay), increment("i0", kNow - 2 * kDay, kNow - 100)};
}

TEST(Retention, KeepLastKeepsTheIncrementsAfterTheOldestKeptFullBackup) {
  const auto plan = plan_retention(daily_chain(), {.keep_last = 2, .keep_for = std::nullopt}, kNowPoint);
  EXPECT_EQ(plan.remove, (std::vector<std::string>{"f10", "i6", "i9"}));
  EXPECT_EQ(plan.keep, (std::vector<std::string>{"f1", "f5", "i0", "i2", "i4"}));
}

TEST(Retention, KeepForKeepsTheBaseOfTheOldestKeptPointInTime) {
  // Points in time of the last 7 days: from f10's chain, 7 days ago is restored from f10.
  const auto seven_days = plan_retention(daily_chain(), {.keep_last = std::nullopt, .keep_for = std::chrono::hours(24 * 7)}, kNowPoint);
  EXPECT_TRUE(seven_days.remove.empty());
  // The last 3 days: restored from f5 (5 days ago) and its increments.
  const auto three_days = plan_retention(daily_chain(), {.keep_last = std::nullopt, .keep_for = std::chrono::hours(24 * 3)}, kNowPoint);
  EXPECT_EQ(three_days.remove, (std::vector<std::string>{"f10", "i6", "i9"}));
  // Rules add up: keep_last 1 alone would drop f5.
  const auto both = plan_retention(daily_chain(), {.keep_last = 1, .keep_for = std::chrono::hours(24 * 3)}, kNowPoint);
  EXPECT_EQ(both.remove, three_days.remove);
}

TEST(Retention, TheNewestFullBackupAndUnreadableOnesAreNeverDeleted) {
  BackupSummary broken;
  broken.id = "broken";
  broken.problem = "corrupt";
  auto backups = daily_chain();
  backups.push_back(broken);
  const auto plan = plan_retention(backups, {.keep_last = std::nullopt, .keep_for = std::chrono::seconds(1)}, kNowPoint);
  EXPECT_NE(std::find(plan.keep.begin(), plan.keep.end(), "f1"), plan.keep.end());
  EXPECT_NE(std::find(plan.keep.begin(), plan.keep.end(), "broken"), plan.keep.end());
  EXPECT_NE(std::find(plan.keep.begin(), plan.keep.end(), "i0"), plan.keep.end());
}

TEST(Retention, APolicyWithoutARuleIsRefused) {
  EXPECT_THROW(plan_retention(daily_chain(), {}, kNowPoint), Error);
  EXPECT_THROW(plan_retention(daily_chain(), {.keep_last = 0, .keep_for = std::nullopt}, kNowPoint), Error);
}

}  // namespace
}  // namespace shardsafe::catalog

// Incremental backups and point-in-time restore of a replica set, end to end against sandbox
// replica sets over TCP and a real file:// storage folder: every kind of write (inserts,
// updates as diffs and replacements, deletes, DDL, a multi-document transaction) restored to
// points between writes, exactly at a write and at the end; a tampered slice; an oplog that
// rolled over between slices.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "catalog/catalog.h"
#include "catalog/timeline.h"
#include "common/error.h"
#include "coordinator/backup.h"
#include "coordinator/point_in_time.h"
#include "coordinator/restore.h"
#include "dump/fingerprint.h"
#include "mongo/topology.h"
#include "storage/open.h"
#include "support/damage.h"
#include "support/sandbox.h"

namespace shardsafe {
namespace {

namespace fs = std::filesystem;
using mongo::Timestamp;
using testing::SandboxReplSet;
using testing::TempDir;
using Fingerprint = std::map<std::string, dump::CollectionFingerprint>;

void run(mongo::Client& client, const std::string& db, const std::string& json) { client.command(db, mongo::Bson::from_json(json)); }

// A session's transaction: two inserts into two collections, committed together.
void transfer_in_transaction(mongo::Client& client, int n) {
  const std::string session = R"("lsid": {"id": {"$binary": {"base64": "3q2+796tvu/erb7v3q2+7w==", "subType": "04"}}}, )"
                              R"("txnNumber": {"$numberLong": ")" + std::to_string(n) + R"("}, "autocommit": false)";
  run(client, "bank", R"({"insert": "debits", "documents": [{"_id": )" + std::to_string(n) + R"(, "amount": 5}], )" + session +
                          R"(, "startTransaction": true})");
  run(client, "bank", R"({"insert": "credits", "documents": [{"_id": )" + std::to_string(n) + R"(, "amount": 5}], )" + session + "}");
  run(client, "admin", R"({"commitTransaction": 1, )" + session + "}");
}

class PointInTimeTest : public ::testing::Test {
 protected:
  TempDir dir_;
  SandboxReplSet source_{{.name = "src", .members = 1}};
  mongo::Client client_{mongo::Uri(source_.uri())};
  std::unique_ptr<storage::Storage> storage_ = storage::open_storage("file://" + (dir_.path() / "backups").string(), {});
  Progress progress_;
  std::vector<std::pair<Timestamp, Fingerprint>> points_;  // after each write: its ts and the data

  catalog::Manifest backup(bool incremental) {
    coordinator::BackupRequest request;
    request.uri = source_.uri();
    request.incremental = incremental;
    return coordinator::run_backup(request, *storage_, progress_);
  }
  void restore_to(Timestamp to, const std::string& target) {
    coordinator::RestoreRequest request;
    request.to_time = to;
    request.target_uri = target;
    request.options.drop = true;
    coordinator::run_restore(request, *storage_, progress_);
  }
  // Runs a write and records the point it ends at with the data as of then.
  void write(const std::string& db, const std::string& json) {
    run(client_, db, json);
    remember();
  }
  void remember() { points_.emplace_back(mongo::newest_oplog_ts(client_), dump::fingerprint(client_)); }
  Fingerprint restored_at(Timestamp to) {
    SandboxReplSet target({.name = "dst", .members = 1});
    restore_to(to, target.uri());
    mongo::Client restored{mongo::Uri(target.uri())};
    return dump::fingerprint(restored);
  }
  Error restore_error(Timestamp to, const std::string& target) {
    try {
      restore_to(to, target);
    } catch (const Error& error) {
      return error;
    }
    ADD_FAILURE() << "the restore to " << to.to_string() << " succeeded";
    return Error(ErrorCode::kInternal, "none");
  }
};

TEST_F(PointInTimeTest, EveryKindOfWriteLandsExactlyAtTheChosenPoint) {
  run(client_, "shop", R"({"insert": "items", "documents": [{"_id": 1, "n": 1, "tags": ["a"]}, {"_id": 2, "n": 2}]})");
  const auto full = backup(false);

  write("shop", R"({"insert": "items", "documents": [{"_id": 3, "n": 3}]})");
  write("shop", R"({"update": "items", "updates": [{"q": {"_id": 1}, "u": {"$set": {"n": 10}, "$push": {"tags": "b"}}}]})");
  write("shop", R"({"update": "items", "updates": [{"q": {"_id": 2}, "u": {"name": "replaced"}}]})");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the next write in a later second
  write("shop", R"({"delete": "items", "deletes": [{"q": {"_id": 3}, "limit": 1}]})");
  const auto first = backup(true);
  write("shop", R"({"createIndexes": "items", "indexes": [{"key": {"n": 1}, "name": "n_1"}]})");
  write("audit", R"({"create": "events", "capped": true, "size": 4096})");
  transfer_in_transaction(client_, 1);
  remember();
  write("shop", R"({"insert": "items", "documents": [{"_id": 4, "n": 4}]})");
  const auto second = backup(true);
  write("audit", R"({"drop": "events"})");
  const auto third = backup(true);

  EXPECT_EQ(first.kind, "incremental");
  EXPECT_EQ(first.base, full.id);
  EXPECT_EQ(second.base, first.id);
  EXPECT_EQ(third.base, second.id);
  catalog::Catalog catalog(*storage_);
  const auto timeline = catalog::build_timeline(catalog);
  ASSERT_EQ(timeline.windows.size(), 1u);
  EXPECT_TRUE(timeline.gaps.empty());
  EXPECT_EQ(timeline.windows[0].from, full.consistency_point);
  EXPECT_EQ(timeline.windows[0].to, third.consistency_point);

  // Exactly at writes: the first, the transaction, the last (the end of the window).
  for (const std::size_t i : {std::size_t{0}, std::size_t{6}, points_.size() - 1}) {
    EXPECT_EQ(restored_at(points_[i].first), points_[i].second) << "at write " << i << ", " << points_[i].first.to_string();
  }
  // Between two writes: the instant the second of the delete began, before the delete.
  const Timestamp before_delete{points_[3].first.seconds, 0};
  ASSERT_LT(points_[2].first, before_delete);
  EXPECT_EQ(restored_at(before_delete), points_[2].second);
  // The full backup's own point: no slice needed.
  SandboxReplSet target({.name = "dst", .members = 1});
  restore_to(full.consistency_point, target.uri());
}

TEST_F(PointInTimeTest, ATamperedSliceIsRefusedByNameAndTheTargetIsLeftAsItWas) {
  run(client_, "shop", R"({"insert": "items", "documents": [{"_id": 1}]})");
  backup(false);
  write("shop", R"({"insert": "items", "documents": [{"_id": 2}]})");
  const auto increment = backup(true);
  const std::string key = increment.replica_sets.at(0).oplog.parts.at(0).key;
  testing::flip_middle_byte(dir_.path() / "backups" / key);

  SandboxReplSet target({.name = "dst", .members = 1});
  mongo::Client target_client{mongo::Uri(target.uri())};
  run(target_client, "shop", R"({"insert": "items", "documents": [{"_id": "theirs"}]})");
  const auto before = dump::fingerprint(target_client);
  const Error error = restore_error(points_.back().first, target.uri());
  EXPECT_EQ(error.code(), ErrorCode::kChecksumMismatch) << error.what();
  EXPECT_NE(std::string(error.what()).find(key), std::string::npos) << error.what();
  EXPECT_EQ(dump::fingerprint(target_client), before);
}

TEST_F(PointInTimeTest, TimesOutsideEveryWindowAreRefusedWithTheWindowsBounds) {
  run(client_, "shop", R"({"insert": "items", "documents": [{"_id": 1}]})");
  const Timestamp before_any_backup = mongo::newest_oplog_ts(client_);
  const auto full = backup(false);
  write("shop", R"({"insert": "items", "documents": [{"_id": 2}]})");
  const auto increment = backup(true);
  SandboxReplSet target({.name = "dst", .members = 1});
  for (const Timestamp outside : {before_any_backup, Timestamp{increment.consistency_point.seconds + 100, 0}}) {
    const Error error = restore_error(outside, target.uri());
    EXPECT_EQ(error.code(), ErrorCode::kNotFound) << error.what();
    EXPECT_NE(std::string(error.what()).find(full.consistency_point.to_string() + ") .. "), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(increment.consistency_point.to_string()), std::string::npos) << error.what();
  }
}

TEST(PointInTimeRolloverTest, AnOplogThatRolledOverBetweenSlicesIsAGap) {
  TempDir dir;
  SandboxReplSet source({.name = "tiny", .members = 1, .oplog_size_mb = 1});
  mongo::Client client{mongo::Uri(source.uri())};
  auto storage = storage::open_storage("file://" + (dir.path() / "backups").string(), {});
  Progress progress;
  const auto backup = [&](bool incremental) {
    coordinator::BackupRequest request;
    request.uri = source.uri();
    request.incremental = incremental;
    return coordinator::run_backup(request, *storage, progress);
  };
  run(client, "big", R"({"insert": "c", "documents": [{"_id": "first"}]})");
  backup(false);
  const auto before_rollover = backup(true);
  const std::string padding(4000, 'x');
  for (int batch = 0; batch < 10; ++batch) {  // ~2 MiB of entries through a 1 MiB oplog
    std::string docs;
    for (int i = 0; i < 50; ++i) {
      docs += (docs.empty() ? "" : ",") + std::string(R"({"_id": )") + std::to_string(batch * 50 + i) + R"(, "pad": ")" + padding + "\"}";
    }
    run(client, "big", R"({"insert": "c", "documents": [)" + docs + "]}");
  }
  const Timestamp lost = mongo::newest_oplog_ts(client);
  try {
    backup(true);
    FAIL() << "an increment across a rollover was taken";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kChainGap) << error.what();
    EXPECT_NE(std::string(error.what()).find("take a full backup"), std::string::npos) << error.what();
  }
  const auto second_full = backup(false);
  const auto after = backup(true);
  EXPECT_EQ(after.base, second_full.id);

  catalog::Catalog catalog(*storage);
  const auto timeline = catalog::build_timeline(catalog);
  ASSERT_EQ(timeline.windows.size(), 2u);
  ASSERT_EQ(timeline.gaps.size(), 1u);
  EXPECT_EQ(timeline.gaps[0].from, before_rollover.consistency_point);
  EXPECT_EQ(timeline.gaps[0].to, second_full.consistency_point);
  try {
    coordinator::plan_point_in_time(catalog, lost);
    FAIL() << "a point in the gap was planned";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kChainGap) << error.what();
    EXPECT_NE(std::string(error.what()).find("gap"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace shardsafe

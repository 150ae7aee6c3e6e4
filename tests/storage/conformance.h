// The storage conformance suite: every driver instantiates it and must pass all of it.
//
// A driver's test file defines a Driver type with
//   static std::unique_ptr<Storage> make();  // a fresh, empty storage, list pages of 7 objects
// and instantiates: INSTANTIATE_TYPED_TEST_SUITE_P(Name, StorageConformance, Driver);
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "storage/storage.h"

namespace shardsafe::storage::testing {

inline std::vector<std::uint8_t> random_bytes(std::size_t size, unsigned seed = 1) {
  std::vector<std::uint8_t> bytes(size);
  std::mt19937 generator(seed);
  for (auto& byte : bytes) byte = static_cast<std::uint8_t>(generator());
  return bytes;
}

inline std::vector<std::uint8_t> read_all(Source& source) {
  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> buffer(100'003);  // odd size: exercises short reads
  for (std::size_t got; (got = source.read(buffer)) > 0;) out.insert(out.end(), buffer.begin(), buffer.begin() + got);
  return out;
}

inline std::vector<std::uint8_t> read_object(Storage& storage, const std::string& key) {
  return read_all(*storage.open(key));
}

// Writes `bytes` in uneven slices, then commits.
inline void put(Storage& storage, const std::string& key, std::span<const std::uint8_t> bytes) {
  auto writer = storage.create(key);
  std::size_t slice = 1;
  while (!bytes.empty()) {
    const auto n = std::min(slice, bytes.size());
    writer->write(bytes.first(n));
    bytes = bytes.subspan(n);
    slice = slice * 3 + 7;
  }
  writer->commit();
}

inline void put(Storage& storage, const std::string& key, const std::string& text) {
  put(storage, key, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

inline std::vector<std::string> keys_of(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> keys;
  for (const auto& object : objects) keys.push_back(object.key);
  return keys;
}

template <typename ErrorFn>
ErrorCode error_code_of(ErrorFn&& fn, std::string* message = nullptr) {
  try {
    fn();
  } catch (const Error& error) {
    if (message) *message = error.what();
    return error.code();
  }
  ADD_FAILURE() << "expected a shardsafe::Error";
  return ErrorCode::kInternal;
}

template <typename Driver>
class StorageConformance : public ::testing::Test {
 protected:
  void SetUp() override { storage_ = Driver::make(); }
  Storage& storage() { return *storage_; }
  std::unique_ptr<Storage> storage_;
};

TYPED_TEST_SUITE_P(StorageConformance);

TYPED_TEST_P(StorageConformance, CommittedObjectReadsBackWhole) {
  const auto bytes = random_bytes(3 * 1024 * 1024 + 17);
  put(this->storage(), "a/b/object.bin", bytes);
  EXPECT_EQ(read_object(this->storage(), "a/b/object.bin"), bytes);
  const auto info = this->storage().stat("a/b/object.bin");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, bytes.size());
  EXPECT_EQ(info->key, "a/b/object.bin");
  const auto age = std::chrono::system_clock::now() - info->modified;
  EXPECT_LT(std::chrono::abs(age), std::chrono::minutes(10));
}

TYPED_TEST_P(StorageConformance, LargeObjectInManyPartsReadsBack) {
  // Larger than the S3 driver's test upload part size (5 MiB): exercises multipart upload.
  const auto bytes = random_bytes(17 * 1024 * 1024 + 5, 7);
  put(this->storage(), "big/object", bytes);
  EXPECT_EQ(read_object(this->storage(), "big/object"), bytes);
  EXPECT_EQ(this->storage().stat("big/object")->size, bytes.size());
}

TYPED_TEST_P(StorageConformance, EmptyObject) {
  put(this->storage(), "empty", std::string());
  EXPECT_TRUE(read_object(this->storage(), "empty").empty());
  EXPECT_EQ(this->storage().stat("empty")->size, 0u);
}

TYPED_TEST_P(StorageConformance, NothingVisibleBeforeCommit) {
  auto writer = this->storage().create("pending/object");
  writer->write(random_bytes(1000));
  writer->finish();
  EXPECT_FALSE(this->storage().stat("pending/object").has_value());
  EXPECT_TRUE(list_all(this->storage(), "").empty());
  writer->commit();
  EXPECT_EQ(keys_of(list_all(this->storage(), "")), std::vector<std::string>{"pending/object"});
}

TYPED_TEST_P(StorageConformance, WriterDestroyedWithoutCommitLeavesNothing) {
  {
    auto writer = this->storage().create("abandoned/object");
    writer->write(random_bytes(12 * 1024 * 1024, 3));  // past one multipart part
  }
  {
    auto writer = this->storage().create("aborted/object");
    writer->write(random_bytes(100));
    writer->abort();
    writer->abort();  // idempotent
  }
  EXPECT_FALSE(this->storage().stat("abandoned/object").has_value());
  EXPECT_FALSE(this->storage().stat("aborted/object").has_value());
  EXPECT_TRUE(list_all(this->storage(), "").empty());
}

TYPED_TEST_P(StorageConformance, CommitReplacesExistingObject) {
  put(this->storage(), "k", std::string("first version"));
  auto writer = this->storage().create("k");
  writer->write(random_bytes(10, 9));
  EXPECT_EQ(read_object(this->storage(), "k").size(), 13u) << "old object stays until commit";
  writer->commit();
  EXPECT_EQ(read_object(this->storage(), "k"), random_bytes(10, 9));
}

TYPED_TEST_P(StorageConformance, RangedReads) {
  const auto bytes = random_bytes(100'000, 5);
  put(this->storage(), "ranged", bytes);
  auto middle = read_all(*this->storage().open("ranged", 1000, 500));
  EXPECT_EQ(middle, std::vector<std::uint8_t>(bytes.begin() + 1000, bytes.begin() + 1500));
  auto tail = read_all(*this->storage().open("ranged", 99'990));
  EXPECT_EQ(tail, std::vector<std::uint8_t>(bytes.end() - 10, bytes.end()));
  auto clipped = read_all(*this->storage().open("ranged", 99'999, 50));
  EXPECT_EQ(clipped.size(), 1u);
  EXPECT_TRUE(read_all(*this->storage().open("ranged", 200'000)).empty());
  EXPECT_TRUE(read_all(*this->storage().open("ranged", 10, 0)).empty());
}

TYPED_TEST_P(StorageConformance, MissingObjects) {
  std::string message;
  EXPECT_EQ(error_code_of([&] { this->storage().open("no/such/object"); }, &message), ErrorCode::kNotFound);
  EXPECT_NE(message.find("no/such/object"), std::string::npos) << message;
  EXPECT_FALSE(this->storage().stat("no/such/object").has_value());
  EXPECT_TRUE(this->storage().list("no/such/").objects.empty());
}

TYPED_TEST_P(StorageConformance, ListIsSortedRecursivePaginatedAndFilteredByPrefix) {
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    const auto key = "backups/b" + std::to_string(i % 3) + "/n" + std::to_string(100 + i);
    put(this->storage(), key, std::to_string(i));
    if (key.starts_with("backups/b1")) expected.push_back(key);
  }
  put(this->storage(), "backups/b10", std::string("x"));  // a file beside directory b1
  expected.push_back("backups/b10");
  put(this->storage(), "other/b1", std::string("y"));
  std::sort(expected.begin(), expected.end());

  std::vector<std::string> seen;
  std::string continuation;
  int pages = 0;
  do {
    auto page = this->storage().list("backups/b1", continuation);
    EXPECT_LE(page.objects.size(), 7u);
    for (const auto& object : page.objects) seen.push_back(object.key);
    continuation = page.continuation;
    ++pages;
  } while (!continuation.empty() && pages < 100);
  EXPECT_EQ(seen, expected);
  EXPECT_GE(pages, 2);

  const auto all = list_all(this->storage(), "");
  EXPECT_EQ(all.size(), 22u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](auto& a, auto& b) { return a.key < b.key; }));
  EXPECT_EQ(list_all(this->storage(), "backups/b2/").size(), 6u);
  EXPECT_EQ(list_all(this->storage(), "other/b1")[0].size, 1u);
}

TYPED_TEST_P(StorageConformance, RemoveInBatchesIgnoresMissingKeys) {
  // More than one S3 DeleteObjects batch (1000 keys).
  std::vector<std::string> keys;
  for (int i = 0; i < 1003; ++i) keys.push_back("many/" + std::to_string(i));
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (std::size_t i = t; i < 8; i += 4) put(this->storage(), keys[i], std::string("v"));
    });
  }
  for (auto& writer : writers) writer.join();
  put(this->storage(), "keep/me", std::string("kept"));
  this->storage().remove(keys);  // 995 of them never existed
  EXPECT_EQ(keys_of(list_all(this->storage(), "")), std::vector<std::string>{"keep/me"});
  this->storage().remove({"keep/me", "keep/me"});
  EXPECT_TRUE(list_all(this->storage(), "").empty());
  this->storage().remove({});
}

TYPED_TEST_P(StorageConformance, RenameMovesCommittedObject) {
  const auto bytes = random_bytes(70'000, 11);
  put(this->storage(), "from/x", bytes);
  put(this->storage(), "to/y", std::string("old"));
  this->storage().rename("from/x", "to/y");
  EXPECT_FALSE(this->storage().stat("from/x").has_value());
  EXPECT_EQ(read_object(this->storage(), "to/y"), bytes);
  EXPECT_EQ(error_code_of([&] { this->storage().rename("from/x", "to/z"); }), ErrorCode::kNotFound);
}

TYPED_TEST_P(StorageConformance, InvalidKeysAreRejected) {
  for (const std::string key : {"", "/etc/passwd", "../escape", "a/../../b", "a//b", "a/./b", "dir/"}) {
    std::string message;
    EXPECT_EQ(error_code_of([&] { this->storage().create(key); }, &message), ErrorCode::kInvalidArgument) << key;
    EXPECT_EQ(error_code_of([&] { this->storage().open(key); }), ErrorCode::kInvalidArgument) << key;
    EXPECT_EQ(error_code_of([&] { this->storage().stat(key); }), ErrorCode::kInvalidArgument) << key;
    EXPECT_EQ(error_code_of([&] { this->storage().remove({key}); }), ErrorCode::kInvalidArgument) << key;
  }
  EXPECT_EQ(error_code_of([&] { this->storage().list("../"); }), ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(StorageConformance, KeysWithSpecialCharacters) {
  const std::string key = "db name/coll&<x>+é%20 'q'.bson";
  put(this->storage(), key, std::string("special"));
  EXPECT_EQ(keys_of(list_all(this->storage(), "db name/")), std::vector<std::string>{key});
  EXPECT_EQ(read_object(this->storage(), key).size(), 7u);
  this->storage().remove({key});
  EXPECT_FALSE(this->storage().stat(key).has_value());
}

TYPED_TEST_P(StorageConformance, DescribeNamesTheStorage) {
  EXPECT_FALSE(this->storage().describe().empty());
}

REGISTER_TYPED_TEST_SUITE_P(StorageConformance, CommittedObjectReadsBackWhole, LargeObjectInManyPartsReadsBack,
                            EmptyObject, NothingVisibleBeforeCommit, WriterDestroyedWithoutCommitLeavesNothing,
                            CommitReplacesExistingObject, RangedReads, MissingObjects,
                            ListIsSortedRecursivePaginatedAndFilteredByPrefix,
                            RemoveInBatchesIgnoresMissingKeys, RenameMovesCommittedObject,
                            InvalidKeysAreRejected, KeysWithSpecialCharacters, DescribeNamesTheStorage);

}  // namespace shardsafe::storage::testing

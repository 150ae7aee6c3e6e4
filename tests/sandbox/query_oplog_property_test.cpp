// Properties, for random documents and random operator updates: replaying the update's oplog
// entry on the original document gives the updated document byte for byte, and replaying it
// again changes nothing ($v:2 diffs are idempotent, which oplog replay relies on).
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "query_test_helpers.h"

namespace sandbox::testing {
namespace {

class RandomBson {
 public:
  explicit RandomBson(std::uint32_t seed) : rng_(seed) {}

  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  std::string name() {
    static const char* const kNames[] = {"a", "b", "c", "d", "e"};
    return kNames[below(5)];
  }

  // A random path such as "a", "b.c" or "l.1.a" over the same small name set.
  std::string path() {
    std::string p = name();
    int depth = below(3);
    for (int i = 0; i < depth; ++i) p += "." + (below(4) == 0 ? std::to_string(below(3)) : name());
    return p;
  }

  void append_value(bson_t* out, const std::string& key, int depth) {
    const char* k = key.c_str();
    switch (below(depth > 1 ? 7 : 9)) {
      case 0:
        bson_append_int32(out, k, -1, below(10));
        break;
      case 1:
        bson_append_int64(out, k, -1, below(1000) - 500);
        break;
      case 2:
        bson_append_double(out, k, -1, below(100) / 4.0);
        break;
      case 3:
        bson_append_utf8(out, k, -1, name().c_str(), -1);
        break;
      case 4:
        bson_append_null(out, k, -1);
        break;
      case 5:
        bson_append_bool(out, k, -1, below(2) == 1);
        break;
      case 6:
        bson_append_double(out, k, -1, -0.0);
        break;
      case 7: {
        bson_t child;
        bson_append_document_begin(out, k, -1, &child);
        append_fields(&child, depth + 1);
        bson_append_document_end(out, &child);
        break;
      }
      default: {
        bson_t child;
        bson_append_array_begin(out, k, -1, &child);
        int n = below(4);
        for (int i = 0; i < n; ++i) append_value(&child, std::to_string(i), depth + 1);
        bson_append_array_end(out, &child);
      }
    }
  }

  void append_fields(bson_t* out, int depth) {
    std::vector<std::string> used;
    int n = below(4);
    for (int i = 0; i < n; ++i) {
      std::string key = name();
      if (std::find(used.begin(), used.end(), key) != used.end()) continue;
      used.push_back(key);
      append_value(out, key, depth);
    }
  }

  Doc document() {
    ScopedDoc out;
    bson_append_int32(out.get(), "_id", 3, 1);
    append_fields(out.get(), 0);
    return out.doc();
  }

  // One or two operators, each with one or two random paths.
  Doc update() {
    static const char* const kOps[] = {"$set",  "$unset", "$inc",      "$mul",  "$min",   "$max",
                                       "$push", "$pop",   "$addToSet", "$pull", "$rename"};
    ScopedDoc out;
    int ops = 1 + below(2);
    for (int i = 0; i < ops; ++i) {
      const char* op = kOps[below(11)];
      bson_t fields;
      bson_append_document_begin(out.get(), op, -1, &fields);
      int n = 1 + below(2);
      for (int j = 0; j < n; ++j) {
        std::string p = path();
        std::string o(op);
        if (o == "$rename")
          bson_append_utf8(&fields, p.c_str(), -1, path().c_str(), -1);
        else if (o == "$pop")
          bson_append_int32(&fields, p.c_str(), -1, below(2) ? 1 : -1);
        else if (o == "$inc" || o == "$mul")
          bson_append_int32(&fields, p.c_str(), -1, below(5));
        else
          append_value(&fields, p, 2);
      }
      bson_append_document_end(out.get(), &fields);
    }
    return out.doc();
  }

 private:
  struct ScopedDoc {
    ScopedDoc() { bson_init(&b); }
    ~ScopedDoc() { bson_destroy(&b); }
    bson_t* get() { return &b; }
    Doc doc() const { return Doc::copy_of(&b); }
    bson_t b;
  };
  std::mt19937 rng_;
};

TEST(QueryOplogProperty, RandomUpdatesRoundTripThroughTheirOplogEntries) {
  RandomBson random(20261125);
  int changed = 0, rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    Doc doc = random.document();
    Doc update = random.update();
    UpdateOutcome outcome;
    try {
      outcome = apply_update(doc.bson(), update.bson(), false);
    } catch (const CommandError&) {
      ++rejected;  // conflicting paths, $inc on strings, paths through scalars...
      continue;
    }
    if (!outcome.changed) {
      EXPECT_EQ(outcome.document, doc) << canonical(update);
      continue;
    }
    ++changed;
    Doc replayed = apply_oplog_update(doc.bson(), outcome.oplog_o.bson());
    ASSERT_EQ(replayed, outcome.document)
        << "doc " << canonical(doc) << "\n update " << canonical(update) << "\n oplog "
        << canonical(outcome.oplog_o) << "\n want " << canonical(outcome.document) << "\n got  "
        << canonical(replayed);
    EXPECT_EQ(apply_oplog_update(replayed.bson(), outcome.oplog_o.bson()), replayed)
        << "not idempotent: " << canonical(outcome.oplog_o);
  }
  // The generator must exercise real changes, not only errors.
  EXPECT_GT(changed, 800) << "rejected " << rejected;
}

}  // namespace
}  // namespace sandbox::testing

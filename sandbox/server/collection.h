// One collection in memory: documents as exact bytes in insertion (natural) order, the _id
// index and unique secondary indexes, capped limits, and the metadata listCollections and
// listIndexes report verbatim.
//
// Thread safety: none; the Engine's mutex guards every Collection.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "query/document.h"
#include "query/query.h"
#include "server/bson_util.h"

namespace sandbox {

using Record = std::shared_ptr<const Doc>;

// 11000 DuplicateKey, with the index's key pattern and the duplicate value for writeErrors.
class DuplicateKeyError : public CommandError {
 public:
  DuplicateKeyError(const std::string& message, const Doc& key_pattern, const Doc& key_value)
      : CommandError(11000, "DuplicateKey", message), key_pattern_(key_pattern), key_value_(key_value) {}
  void append_details(bson_t* out) const override {
    append_doc(out, "keyPattern", key_pattern_.doc().bson());
    append_doc(out, "keyValue", key_value_.doc().bson());
  }

 private:
  ErrorDocument key_pattern_;
  ErrorDocument key_value_;
};

// Orders index keys (documents whose values are compared in order, names ignored) the way
// MongoDB compares values.
struct KeyLess {
  bool operator()(const Doc& a, const Doc& b) const;
};

struct Index {
  Doc spec;  // as created (with v:2), reported verbatim by listIndexes
  std::string name;
  Doc key;   // the key pattern
  bool unique = false;
  bool sparse = false;
  std::shared_ptr<Matcher> partial;           // partialFilterExpression, if any
  std::map<Doc, std::int64_t, KeyLess> keys;  // maintained for unique indexes only

  // The key of `doc` for this index, or nullopt when the index skips the document (sparse
  // index and no key field, or a partial filter the document does not match).
  std::optional<Doc> key_of(const bson_t* doc) const;
};

class Collection {
 public:
  Collection(std::string db, std::string name, Uuid uuid, Doc options);

  const std::string& db() const { return db_; }
  const std::string& name() const { return name_; }
  std::string ns() const { return db_ + "." + name_; }
  const Uuid& uuid() const { return uuid_; }
  const Doc& options() const { return options_; }
  bool is_view() const;
  bool is_capped() const { return capped_size_ > 0; }
  const std::vector<Index>& indexes() const { return indexes_; }
  const std::map<std::int64_t, Record>& records() const { return records_; }
  std::size_t count() const { return records_.size(); }
  std::int64_t data_size() const { return data_size_; }
  std::int64_t index_size() const;

  void set_options(Doc options);  // collMod
  // The compiled `validator` option, nullptr when there is none. Compiled on first use, not
  // when options are set: options applied from the oplog were checked by the primary, and a
  // validator this sandbox cannot parse must fail the writes it would check, not replication.
  const Matcher* validator() const;  // throws CommandError when the validator does not parse
  void rename(std::string db, std::string name) { db_ = std::move(db); name_ = std::move(name); }

  // Throws 11000 DuplicateKey when a unique index already holds the key. Returns the record id.
  std::int64_t insert(Doc doc);
  // Replaces the document with `_id` equal to id_key's first value. Throws DuplicateKey.
  void replace(std::int64_t record_id, Doc doc);
  void remove(std::int64_t record_id);
  std::optional<std::int64_t> find_by_id(const Doc& id_key) const;  // {"_id": v} or {"": v}

  // Index management. create_index throws 11000 if existing documents violate uniqueness,
  // 85/86 when an index with the same name or key but other options exists. Returns false
  // when an identical index already exists.
  bool create_index(const bson_t* spec);
  void drop_index(const std::string& name);  // throws 27 IndexNotFound
  void drop_all_indexes();                   // all but _id_

 private:
  void check_unique(const bson_t* doc, std::optional<std::int64_t> ignore) const;
  void index_add(std::int64_t record_id, const bson_t* doc);
  void index_remove(std::int64_t record_id, const bson_t* doc);
  void enforce_capped_limits();

  std::string db_;
  std::string name_;
  Uuid uuid_;
  Doc options_;
  std::vector<Index> indexes_;
  std::map<std::int64_t, Record> records_;
  std::int64_t next_record_id_ = 1;
  std::int64_t data_size_ = 0;
  std::int64_t capped_size_ = 0;
  std::int64_t capped_max_ = 0;
  mutable bool validator_compiled_ = false;
  mutable std::shared_ptr<const Matcher> validator_;
};

// The default _id index spec {v:2, key:{_id:1}, name:"_id_"}.
Doc id_index_spec();

}  // namespace sandbox

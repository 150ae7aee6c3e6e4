// A comparable summary of a deployment's data: per namespace (collections and views), the
// document count, a SHA-256 of every document's bytes in _id order, the index specs and the
// collection options. Two deployments hold the same data
// exactly when their fingerprints are equal; the demo and the fidelity tests use this to prove a
// restore brought back what was backed up, byte for byte.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mongo/client.h"

namespace shardsafe::dump {

struct CollectionFingerprint {
  std::uint64_t documents = 0;
  std::string sha256;                // of the documents' bytes, in _id order
  std::vector<std::string> indexes;  // canonical JSON of each spec, sorted
  std::string options;               // canonical JSON of listCollections' options (capped, validator, viewOn...)
  bool operator==(const CollectionFingerprint&) const = default;
};

// Every namespace a full dump would take (see dump_includes), except admin.system.*.
std::map<std::string, CollectionFingerprint> fingerprint(mongo::Client& client);

// A sharded cluster's user data: the routed view through `mongos` ("mongos <ns>") and each
// shard's own data ("<shard id> <ns>"), without the config database, whose metadata records
// when things happened as well as what. Equal fingerprints mean every shard holds the same
// documents and indexes, and the routers show the same collections.
std::map<std::string, CollectionFingerprint> fingerprint_cluster(const mongo::Uri& mongos);

}  // namespace shardsafe::dump

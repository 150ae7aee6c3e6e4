// A CommandRunner that records what replay would send, for unit tests of the replay rules.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "mongo/bson.h"
#include "oplog/replay.h"

namespace shardsafe::oplog::testing {

struct SentCommand {
  std::string db;
  mongo::Bson command;
};

class RecordingRunner : public CommandRunner {
 public:
  mongo::Bson run_command(const std::string& db, const mongo::Bson& command) override {
    sent.push_back({db, command});
    const bool fails = fail_if_contains.empty() || command.canonical_json().find(fail_if_contains) != std::string::npos;
    if (fail_with_code != 0 && fails) throw ServerError(fail_with_code, "DuplicateKey", "E11000 duplicate key error");
    return mongo::Bson::from_json(R"({"ok": 1})");
  }

  // The single op of each applyOps sent, as canonical Extended JSON.
  std::vector<std::string> applied_ops() const {
    std::vector<std::string> ops;
    for (const SentCommand& c : sent) {
      for (const mongo::Bson& op : mongo::BsonView(c.command).documents("applyOps")) ops.push_back(op.canonical_json());
    }
    return ops;
  }

  std::vector<SentCommand> sent;
  int fail_with_code = 0;  // when not 0, every command fails with this server code...
  std::string fail_if_contains;  // ...or, when set, those whose canonical JSON holds this
};

// The BSON bytes of an entry written in relaxed or canonical Extended JSON.
inline std::vector<std::uint8_t> entry(const std::string& json) {
  const mongo::Bson doc = mongo::Bson::from_json(json);
  return {doc.bytes().begin(), doc.bytes().end()};
}

}  // namespace shardsafe::oplog::testing

// Oplog entries (oplog.bson of a backup or of an imported dump) replayed with mongorestore's
// rules onto a runner that records what would be sent: parse_entry, the rules, transactions,
// nested applyOps and deferred index builds see every entry. A replay stops at its first
// Error, as a restore does. An odd-sized input replays with preserve_uuid, so both
// re-encodings run.
#include "fuzz_support.h"
#include "oplog/recording_runner.h"
#include "oplog/replay.h"
#include "storage/bson_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shardsafe;
  fuzz::InputSource source(data, size);
  storage::BsonStreamReader entries(source, "fuzz.oplog.bson");
  oplog::testing::RecordingRunner runner;
  oplog::ReplayOptions options;
  options.preserve_uuid = size % 2 == 1;
  oplog::OplogReplayer replayer(runner, options);
  fuzz::refusing_errors([&] {
    while (const auto entry = entries.next()) replayer.apply(*entry);
    replayer.finish();
  });
  return 0;
}

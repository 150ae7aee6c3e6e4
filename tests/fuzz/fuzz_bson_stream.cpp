// Concatenated BSON documents (.bson files, oplog.bson) with archive terminators between them,
// through a reader whose buffer (64 bytes) is smaller than most documents, so it must grow.
#include "fuzz_support.h"
#include "storage/bson_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  shardsafe::fuzz::InputSource source(data, size);
  shardsafe::storage::BsonStreamReader reader(source, "fuzz.bson", 64);
  shardsafe::fuzz::refusing_errors([&] {
    while (!reader.at_end()) {
      if (reader.consume_terminator()) continue;
      const auto document = reader.next();
      if (!document) break;
      // A document is whole: its length prefix is its size and it ends in 0x00.
      if (shardsafe::storage::bson_length_prefix(*document) != document->size() || document->back() != 0) __builtin_trap();
    }
  });
  return 0;
}

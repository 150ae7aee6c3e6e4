// <coll>.metadata.json files of a dump given to `import` or read from a backup. What
// to_metadata_json writes of a file that was read must read back.
#include "dump/metadata.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shardsafe::dump;
  std::optional<CollectionMetadata> metadata;
  shardsafe::fuzz::refusing_errors([&] { metadata = parse_metadata_json(shardsafe::fuzz::as_text(data, size), "fuzz"); });
  if (metadata) parse_metadata_json(to_metadata_json(*metadata), "fuzz (written back)");
  return 0;
}

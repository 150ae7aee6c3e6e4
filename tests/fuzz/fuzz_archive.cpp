// mongodump --archive streams as `import` reads them (plain or gzipped): read_archive must
// either report the archive or refuse it with Error.
#include "dump/archive.h"
#include "fuzz_support.h"

namespace {

class Handler : public shardsafe::dump::ArchiveHandler {
 public:
  // Touches every byte, so ASan sees a span that points outside the reader's buffer.
  void on_document(const std::string&, const std::string&, std::span<const std::uint8_t> document) override {
    for (const std::uint8_t byte : document) sum_ += byte;
  }

 private:
  unsigned sum_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  shardsafe::fuzz::InputSource source(data, size);
  Handler handler;
  shardsafe::fuzz::refusing_errors([&] { shardsafe::dump::read_archive(source, "fuzz.archive", handler); });
  return 0;
}

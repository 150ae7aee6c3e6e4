// The in-memory driver other layers use in unit tests must behave like the real ones.
#include "storage/mem_storage.h"
#include "storage/conformance.h"

namespace shardsafe::storage::testing {
namespace {

struct MemDriver {
  static std::unique_ptr<Storage> make() { return std::make_unique<MemStorage>(7); }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Mem, StorageConformance, MemDriver);

}  // namespace
}  // namespace shardsafe::storage::testing

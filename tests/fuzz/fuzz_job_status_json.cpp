// A job's status as the coordinator reads it from an agent's answer or a status file after a
// restart. What to_json writes of a status that was read must read back.
#include <nlohmann/json.hpp>

#include "agent/job.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto document = nlohmann::json::parse(shardsafe::fuzz::as_text(data, size), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return 0;
  shardsafe::fuzz::refusing_errors([&] {
    const auto status = shardsafe::agent::job_status_from_json(document, "fuzz");
    (void)shardsafe::agent::job_error(status);
    shardsafe::agent::job_status_from_json(shardsafe::agent::to_json(status), "fuzz (written back)");
  });
  return 0;
}

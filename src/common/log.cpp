#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace shardsafe {

void init_logging(std::string_view level) {
  spdlog::drop("shardsafe");
  auto logger = spdlog::stderr_color_mt("shardsafe");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

}  // namespace shardsafe

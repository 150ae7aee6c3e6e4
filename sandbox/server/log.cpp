#include "server/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace sandbox {
namespace {

std::mutex log_mutex;
std::FILE* log_file = stderr;

}  // namespace

void open_log(const std::string& path) {
  if (path.empty()) return;
  if (std::FILE* file = std::fopen(path.c_str(), "a")) log_file = file;
}

void log_line(const std::string& message) {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::lock_guard lock(log_mutex);
  std::fprintf(log_file, "%s %s\n", stamp, message.c_str());
  std::fflush(log_file);
}

}  // namespace sandbox

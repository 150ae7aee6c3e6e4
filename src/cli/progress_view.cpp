#include "cli/progress_view.h"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace shardsafe::cli {
namespace {

constexpr auto kBarInterval = std::chrono::milliseconds(200);
constexpr auto kEventInterval = std::chrono::seconds(2);

double rate(const ProgressSnapshot& snapshot) {
  return snapshot.elapsed_seconds > 0 ? static_cast<double>(snapshot.bytes) / snapshot.elapsed_seconds : 0;
}

}  // namespace

std::string human_bytes(std::uint64_t bytes) {
  constexpr std::array kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

ProgressView::ProgressView(const Progress& progress, bool quiet)
    : progress_(progress), terminal_(isatty(STDERR_FILENO) != 0) {
  if (!quiet) thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

ProgressView::~ProgressView() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  if (terminal_) std::fputs("\n", stderr);
}

void ProgressView::run(std::stop_token stop) {
  auto next_event = std::chrono::steady_clock::now();
  while (!stop.stop_requested()) {
    const auto snapshot = progress_.snapshot();
    if (terminal_) {
      render_bar(snapshot);
    } else if (std::chrono::steady_clock::now() >= next_event && !snapshot.phase.empty()) {
      render_event(snapshot);
      next_event += kEventInterval;
    }
    // Wakes at once when stopped, so a finished command exits without waiting out the interval.
    std::unique_lock lock(wake_mutex_);
    wake_.wait_for(lock, stop, kBarInterval, [] { return false; });
  }
  if (!terminal_) render_event(progress_.snapshot());
}

void ProgressView::render_bar(const ProgressSnapshot& snapshot) {
  constexpr int kWidth = 24;
  const double fraction =
      snapshot.bytes_total ? std::min(1.0, static_cast<double>(snapshot.bytes) / static_cast<double>(snapshot.bytes_total))
      : snapshot.units_total ? static_cast<double>(snapshot.units_done) / static_cast<double>(snapshot.units_total)
                             : 0.0;
  const int filled = static_cast<int>(fraction * kWidth);
  const double speed = rate(snapshot);
  std::string eta = "--";
  if (snapshot.bytes_total > snapshot.bytes && speed > 0) {
    eta = fmt::format("{:.0f}s", static_cast<double>(snapshot.bytes_total - snapshot.bytes) / speed);
  }
  fmt::print(stderr, "\r\033[K{:<14} [{}{}] {:>3.0f}%  {}  {} docs  {}/{}  {}/s  ETA {}", snapshot.phase,
             std::string(filled, '#'), std::string(kWidth - filled, '.'), fraction * 100, human_bytes(snapshot.bytes),
             snapshot.documents, snapshot.units_done, snapshot.units_total, human_bytes(static_cast<std::uint64_t>(speed)),
             eta);
  std::fflush(stderr);
}

void ProgressView::render_event(const ProgressSnapshot& snapshot) {
  const nlohmann::json event = {{"event", "progress"},
                                {"phase", snapshot.phase},
                                {"bytes", snapshot.bytes},
                                {"bytes_total", snapshot.bytes_total},
                                {"documents", snapshot.documents},
                                {"done", snapshot.units_done},
                                {"total", snapshot.units_total},
                                {"bytes_per_second", rate(snapshot)},
                                {"elapsed_seconds", snapshot.elapsed_seconds}};
  fmt::print(stderr, "{}\n", event.dump());
}

}  // namespace shardsafe::cli

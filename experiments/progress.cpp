#include "experiments/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace fewshot {

std::string format_duration(double s) {
  if (s < 0) return "?";
  auto t = static_cast<int64_t>(s + 0.5);
  if (t < 60) return fmt::format("{}s", t);
  if (t < 3600) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
}

ProgressBoard::ProgressBoard(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}

int ProgressBoard::add(const std::string& label) {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  Line line;
  line.label = label;
  line.text = "starting";
  line.start = line.phase_start = line.last_plain = now;
  lines_.push_back(line);
  if (!quiet_ && !tty_) std::fprintf(stderr, "[%s] started\n", label.c_str());
  return static_cast<int>(lines_.size()) - 1;
}

void ProgressBoard::update(int i, const std::string& phase, int64_t done, int64_t total, double loss,
                           double accuracy) {
  if (quiet_) return;
  std::lock_guard lock(mutex_);
  Line& l = lines_[i];
  auto now = std::chrono::steady_clock::now();
  if (phase != l.phase) {
    l.phase = phase;
    l.phase_start = now;
  }
  double elapsed = std::chrono::duration<double>(now - l.start).count();
  double in_phase = std::chrono::duration<double>(now - l.phase_start).count();
  double eta = done > 0 && total > 0 ? in_phase * static_cast<double>(total - done) / static_cast<double>(done) : -1;
  std::string what = phase == "train" ? "iter" : "task";
  l.text = fmt::format("{} {} {}/{}", phase, what, done, total);
  if (loss >= 0) l.text += fmt::format("  loss {:.3f}", loss);
  if (accuracy >= 0) l.text += fmt::format("  acc {:.1f}%", 100 * accuracy);
  l.text += fmt::format("  elapsed {}  eta {}", format_duration(elapsed), format_duration(eta));
  if (tty_) {
    if (std::chrono::duration<double>(now - last_draw_).count() > 0.2) redraw_locked();
  } else if (std::chrono::duration<double>(now - l.last_plain).count() > 15 || done == total) {
    l.last_plain = now;
    std::fprintf(stderr, "[%s] %s\n", l.label.c_str(), l.text.c_str());
  }
}

void ProgressBoard::finish(int i, const std::string& summary) {
  std::lock_guard lock(mutex_);
  Line& l = lines_[i];
  l.done = true;
  l.text = summary;
  if (quiet_) return;
  if (tty_) {
    redraw_locked();
  } else {
    std::fprintf(stderr, "[%s] %s\n", l.label.c_str(), summary.c_str());
  }
}

void ProgressBoard::log(const std::string& message) {
  std::lock_guard lock(mutex_);
  if (quiet_) return;
  if (tty_ && drawn_ > 0) {
    std::fprintf(stderr, "\033[%dA\033[J", drawn_);  // clear the live block, print, redraw below
    drawn_ = 0;
  }
  std::fprintf(stderr, "%s\n", message.c_str());
  if (tty_) redraw_locked();
}

void ProgressBoard::redraw_locked() {
  // Finished lines are printed once and scroll away above the live block of running ones.
  if (drawn_ > 0) std::fprintf(stderr, "\033[%dA\033[J", drawn_);
  for (auto& l : lines_)
    if (l.done && !l.printed) {
      std::fprintf(stderr, "[%s] %s\n", l.label.c_str(), l.text.c_str());
      l.printed = true;
    }
  drawn_ = 0;
  for (auto& l : lines_)
    if (!l.done) {
      std::fprintf(stderr, "[%s] %s\n", l.label.c_str(), l.text.c_str());
      ++drawn_;
    }
  std::fflush(stderr);
  last_draw_ = std::chrono::steady_clock::now();
}

}  // namespace fewshot

#pragma once
// Live progress of methods training side by side: on a terminal one line per running method,
// redrawn in place (iteration, loss, accuracy so far, elapsed, ETA); otherwise plain lines every
// few seconds, so logs stay readable.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace fewshot {

class ProgressBoard {
 public:
  explicit ProgressBoard(bool quiet);
  // A new line for a run; returns its handle.
  int add(const std::string& label);
  // phase: "train" or "test"; done/total iterations or episodes; accuracy < 0 when unknown.
  void update(int line, const std::string& phase, int64_t done, int64_t total, double loss, double accuracy);
  void finish(int line, const std::string& summary);
  // A message printed above the live lines.
  void log(const std::string& message);

 private:
  struct Line {
    std::string label, text;
    std::chrono::steady_clock::time_point start, phase_start, last_plain;
    std::string phase;
    bool done = false, printed = false;
  };
  void redraw_locked();
  std::mutex mutex_;
  std::vector<Line> lines_;
  bool quiet_, tty_;
  int drawn_ = 0;
  std::chrono::steady_clock::time_point last_draw_;
};

std::string format_duration(double seconds);  // "42s", "3m05s", "1h02m"

}  // namespace fewshot

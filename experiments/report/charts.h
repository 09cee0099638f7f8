#pragma once
// Charts of a comparison, drawn by gnuplot (driven through gnuplot-iostream) as PNG and SVG:
//   accuracy_vs_shots_<dataset>            accuracy against shots per method, 95% CI error bars
//   training_time, adaptation_time         meta-training / pre-training seconds; per-task adaptation ms
//   time_to_accuracy_<dataset>_<k>shot     validation accuracy against training wall-clock seconds
//   accuracy_vs_steps_<dataset>_<k>shot    query accuracy against adaptation steps at test time
//   grid_accuracy                          accuracy_vs_shots for every dataset (only with > 1 dataset)
// A chart with nothing to draw (no curves, no step data) is skipped rather than drawn empty.
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/report/analysis.h"
#include "experiments/report/results.h"

namespace fewshot::report {

class ChartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ChartOptions {
  std::string gnuplot = "gnuplot";  // program name (searched on PATH) or path
  int width = 960, height = 600;    // pixels (PNG) / points (SVG) of a single chart
};

// Throws ChartError with a clear message when gnuplot is missing or lacks the pngcairo/svg terminals.
void require_gnuplot(const ChartOptions& options = {});

// Draws every chart into out_dir (created if needed). Returns the files written, PNG and SVG of each,
// in drawing order. Throws ChartError naming the chart and quoting gnuplot's error when one fails.
std::vector<std::string> write_charts(const Results& results, const Analysis& analysis, const std::string& out_dir,
                                      const ChartOptions& options = {});

// File-name-safe form of a dataset or method name: letters, digits, '-', '_' and '.'; others become '_'.
std::string file_safe(const std::string& name);

}  // namespace fewshot::report

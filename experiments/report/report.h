#pragma once
// The analysis report of a comparison: report.md and a self-contained report.html (charts embedded as
// PNG data URIs, no external resources), built from DIR/results.json and DIR/curves/ alone.
#include <string>
#include <vector>

#include "experiments/report/analysis.h"
#include "experiments/report/charts.h"
#include "experiments/report/results.h"

namespace fewshot::report {

struct ReportFiles {
  std::string markdown, html;       // DIR/report.md, DIR/report.html
  std::vector<std::string> charts;  // DIR/charts/*.png and *.svg
};

// What `fewshot report DIR` runs: reads DIR/results.json (+ curves), writes DIR/charts/, report.md and
// report.html. Throws ResultsError for bad data and ChartError when gnuplot is missing or fails.
void build_report(const std::string& dir);
ReportFiles build_report(const std::string& dir, const ReportOptions& options, const ChartOptions& chart_options = {});

// The two documents as strings. `charts` are the files write_charts returned: the Markdown links each PNG
// as charts/<file name>; the HTML reads and embeds each PNG as a base64 data URI.
std::string render_markdown(const Results& results, const Analysis& analysis, const std::vector<std::string>& charts);
std::string render_html(const Results& results, const Analysis& analysis, const std::vector<std::string>& charts);

}  // namespace fewshot::report

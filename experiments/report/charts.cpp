#include "experiments/report/charts.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <gnuplot-iostream.h>

namespace fewshot::report {

namespace fs = std::filesystem;

namespace {

// Colours that stay distinct for colour-blind readers (Okabe-Ito), one per method, the same in every chart.
const char* const kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"};

std::string colour(const Analysis& a, const std::string& method) {
  const auto it = std::find(a.methods.begin(), a.methods.end(), method);
  const auto i = static_cast<std::size_t>(it - a.methods.begin());
  return kColours[i % (sizeof kColours / sizeof kColours[0])];
}

// Meta-learners solid, conventional methods dashed, so the two families read apart even in grey.
std::string line_style(const Analysis& a, const MethodResult& m) {
  return fmt::format("lc rgb '{}' lw 2 dt {}", colour(a, m.method), m.family == "meta" ? 1 : 2);
}

std::string quote(const std::string& s) {  // gnuplot single-quoted string: '' stands for '
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string num(double x) { return std::isfinite(x) ? fmt::format("{:.6g}", x) : "?"; }

// One chart: datablocks, then the commands that draw it (run once per output format).
struct Chart {
  std::string stem;
  std::string data;      // "$name << EOD ... EOD" blocks
  std::string commands;  // set ..., plot ...
  int width = 0, height = 0;
};

std::string datablock(const std::string& name, const std::string& rows) {
  return "$" + name + " << EOD\n" + rows + "EOD\n";
}

const char* kCommon =
    "set encoding utf8\n"
    "set grid back lt 1 dt 1 lc rgb '#e0e0e0' lw 1\n"
    "set border lw 1.2\n"
    "set key outside right top box opaque spacing 1.2\n"
    "set datafile missing '?'\n";

bool gnuplot_error(const std::string& log, std::string& first_error) {
  // gnuplot reports problems as: "-", line 12: <message>; warnings say "warning:".
  static const std::regex line_re(R"(line \d+: (.*))");
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, line_re)) {
      const std::string msg = m[1].str();
      if (msg.rfind("warning", 0) == 0 || msg.rfind("Warning", 0) == 0) continue;
      first_error = line;
      return true;
    }
  }
  return false;
}

std::vector<std::string> render(const Chart& c, const fs::path& dir, const ChartOptions& o) {
  const fs::path png = dir / (c.stem + ".png"), svg = dir / (c.stem + ".svg"), log = dir / (c.stem + ".gnuplot.log");
  const int w = c.width ? c.width : o.width, h = c.height ? c.height : o.height;
  std::string script = c.data + kCommon;
  script += fmt::format("set terminal pngcairo size {},{} noenhanced font 'Sans,11' linewidth 1\n", w, h);
  script += "set output " + quote(png.string()) + "\n" + c.commands + "\nunset multiplot\nset output\n";
  script += fmt::format("set terminal svg size {},{} noenhanced font 'Sans,11' background rgb 'white'\n", w, h);
  script += "set output " + quote(svg.string()) + "\n" + c.commands + "\nunset multiplot\nset output\n";
  fs::remove(png);
  fs::remove(svg);
  {
    // If gnuplot dies early, writing to its pipe raises SIGPIPE, which would kill the whole program
    // without a word; ignore it while we write, so the missing output is reported below instead.
    struct sigaction ignore {}, previous {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &previous);
    {
      // gnuplot-iostream opens the pipe; its destructor closes it and waits for gnuplot to finish.
      Gnuplot gp(o.gnuplot + " 2>" + shell_quote(log.string()));
      gp << script;
      gp.flush();
    }
    ::sigaction(SIGPIPE, &previous, nullptr);
  }
  std::string err_log;
  {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    err_log = ss.str();
  }
  std::string first_error;
  const bool failed = gnuplot_error(err_log, first_error);
  for (const auto& f : {png, svg})
    if (failed || !fs::exists(f) || fs::file_size(f) == 0)
      throw ChartError(fmt::format("chart {}: gnuplot did not write {}{}\n(gnuplot's messages are in {})", c.stem,
                                   f.string(), failed ? ": " + first_error : "", log.string()));
  fs::remove(log);  // nothing worth keeping
  return {png.string(), svg.string()};
}

std::string dataset_title(const Analysis& a, const std::string& d) {
  std::int64_t ways = 0;
  std::size_t episodes = 0;
  for (const auto& m : a.results)
    if (m.dataset == d) {
      ways = m.ways;
      episodes = m.runs.front()->test->accuracies.size();
    }
  return fmt::format("{}: {}-way test accuracy vs shots (mean ± 95% CI, {} test episodes)", d, ways, episodes);
}

// Commands (no datablocks) for accuracy vs shots of one dataset; datablocks are named with `prefix`.
void accuracy_vs_shots(const Analysis& a, const std::string& d, const std::string& prefix, Chart& c, bool compact) {
  std::vector<std::int64_t> shots;
  std::int64_t ways = 0;
  std::vector<std::string> plots;
  for (std::size_t mi = 0; mi < a.methods.size(); ++mi) {
    std::string rows;
    const MethodResult* any = nullptr;
    for (auto s : a.shots)
      if (const MethodResult* m = a.find(d, s, a.methods[mi])) {
        rows += fmt::format("{} {} {}\n", s, num(100 * m->accuracy), num(100 * m->ci95));
        if (std::find(shots.begin(), shots.end(), s) == shots.end()) shots.push_back(s);
        ways = m->ways;
        any = m;
      }
    if (!any) continue;
    const std::string block = fmt::format("{}_{}", prefix, mi);
    c.data += datablock(block, rows);
    plots.push_back(fmt::format("${} using 1:2:3 with yerrorlines {} pt 7 ps 1.2 title {}", block, line_style(a, *any),
                                quote(a.methods[mi] + (any->family == "meta" ? " (meta)" : " (conventional)"))));
  }
  std::sort(shots.begin(), shots.end());
  std::string cmd;
  cmd += "set title " + quote(compact ? d : dataset_title(a, d)) + "\n";
  cmd += "set xlabel 'Shots (labelled examples per class)'\nset ylabel 'Test accuracy (%)'\n";
  if (!compact) cmd += "set yrange [0:100]\nset ytics 10\n";
  const bool logx = !shots.empty() && shots.back() >= 10 * shots.front();
  if (logx) cmd += fmt::format("set logscale x\nset xrange [{}:{}]\n", num(shots.front() * 0.8), num(shots.back() * 1.25));
  else if (!shots.empty()) cmd += fmt::format("unset logscale x\nset xrange [{}:{}]\n", num(shots.front() - 0.5), num(shots.back() + 0.5));
  std::string tics;
  for (auto s : shots) tics += (tics.empty() ? "" : ", ") + fmt::format("'{}' {}", s, s);
  cmd += "set xtics (" + tics + ")\n";
  // Grid panels are small: the legend goes in headroom above 100% so that it never covers the data.
  if (compact) cmd += "set yrange [0:132]\nset ytics 0,10,100\nset key inside top center horizontal maxcols 2 box opaque font ',9' samplen 2\n";
  if (ways > 0) plots.push_back(fmt::format("{} with lines dt 3 lc rgb '#606060' lw 1.5 title 'chance ({:.0f}%)'", num(100.0 / ways), 100.0 / ways));
  std::string plot = "plot ";
  for (std::size_t i = 0; i < plots.size(); ++i) plot += (i ? ", \\\n     " : "") + plots[i];
  c.commands += cmd + plot + "\n";
}

// Clustered bars: one cluster per setting, one bar per method. `value` returns nullopt for no bar.
template <class Value>
std::optional<Chart> bar_chart(const Analysis& a, const std::string& stem, const std::string& title,
                               const std::string& ylabel, const std::string& absent_reason, Value value) {
  std::vector<std::string> methods;  // methods with at least one positive value
  std::vector<std::string> absent;
  for (const auto& method : a.methods) {
    bool any = false, present = false;
    for (const auto& m : a.results)
      if (m.method == method) {
        present = true;
        const auto v = value(m);
        any = any || (v && *v > 0);
      }
    if (any) methods.push_back(method);
    else if (present) absent.push_back(method);
  }
  if (methods.empty()) return std::nullopt;
  std::string rows;  // "<setting label>" value value ...; no header row (titles are given in the plot command)
  int clusters = 0;
  double lo = INFINITY, hi = 0;
  for (const auto& d : a.datasets)
    for (auto s : a.shots) {
      std::string row = fmt::format("\"{} {}-shot\"", d, s);
      bool any = false;
      for (const auto& method : methods) {
        const MethodResult* m = a.find(d, s, method);
        const auto v = m ? value(*m) : std::nullopt;
        if (v && *v > 0) {
          lo = std::min(lo, *v), hi = std::max(hi, *v);
          row += ' ';
          row += num(*v);
          any = true;
        } else {
          row += " ?";
        }
      }
      if (any) {
        rows += row + "\n";
        ++clusters;
      }
    }
  Chart c;
  c.stem = stem;
  c.data = datablock("bars", rows);
  const bool logy = hi / lo > 30;
  std::string note;
  for (const auto& m : absent) note += (note.empty() ? "" : ", ") + m;
  // Double-quoted so that \n breaks the title into two lines.
  std::string cmd = "set title \"" + title + (note.empty() ? "" : "\\n(no bar for " + note + ": " + absent_reason + ")") + "\"\n";
  cmd += "set ylabel " + quote(ylabel + (logy ? " — log scale" : "")) + "\n";
  cmd += "set xlabel 'Setting (dataset, shots)'\n";
  cmd += "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.85 border rgb '#303030'\n";
  cmd += fmt::format("set xrange [-0.6:{}]\n", clusters - 0.4);  // cluster k sits at x = k
  cmd += "set boxwidth 0.9\nset xtics nomirror rotate by 25 right\nset grid noxtics ytics\n";
  cmd += logy ? fmt::format("set logscale y\nset yrange [{}:{}]\n", num(lo / 2), num(hi * 2)) : "set yrange [0:*]\n";
  std::string plot = "plot ";
  for (std::size_t i = 0; i < methods.size(); ++i)
    plot += fmt::format("{}$bars using {}{} title {} lc rgb '{}'", i ? ", " : "", i + 2, i == 0 ? ":xtic(1)" : "",
                        quote(methods[i]), colour(a, methods[i]));
  c.commands = cmd + plot + "\n";
  return c;
}

std::optional<Chart> time_to_accuracy(const Analysis& a, const std::string& d, std::int64_t shots) {
  Chart c;
  c.stem = fmt::format("time_to_accuracy_{}_{}shot", file_safe(d), shots);
  std::vector<std::string> plots;
  int block = 0;
  for (const auto& method : a.methods) {
    const MethodResult* m = a.find(d, shots, method);
    if (!m) continue;
    for (const Run* run : m->runs) {
      std::string rows;
      if (!run->train.curve.empty()) {
        for (const auto& p : run->train.curve) rows += fmt::format("{} {}\n", num(p.seconds), num(100 * p.val_accuracy));
        const std::string name = fmt::format("c{}", block++);
        c.data += datablock(name, rows);
        const std::string title = m->runs.size() > 1 ? fmt::format("{} (seed {})", method, run->seed) : method;
        plots.push_back(fmt::format("${} using 1:2 with linespoints {} pt 7 ps 0.6 title {}", name, line_style(a, *m),
                                    quote(title)));
      }
    }
    if (!m->has_curve && m->runs.front()->train.iterations == 0) {
      // No training phase: one point, its per-task training time and test accuracy.
      const std::string name = fmt::format("c{}", block++);
      c.data += datablock(name, fmt::format("{} {}\n", num(m->adapt_seconds), num(100 * m->accuracy)));
      plots.push_back(fmt::format("${} using 1:2 with points lc rgb '{}' pt 9 ps 2 title {}", name, colour(a, method),
                                  quote(method + " (trained per task; test accuracy)")));
    }
  }
  if (block == 0) return std::nullopt;
  std::string cmd = "set title " + quote(fmt::format("{}, {}-shot: validation accuracy during training (target {})", d,
                                                     shots, format_percent(a.target))) + "\n";
  cmd += "set xlabel 'Training wall-clock time (s)'\nset ylabel 'Validation accuracy (%)'\n";
  cmd += "set yrange [0:100]\nset ytics 10\nset xrange [0:*]\nset key inside bottom right box opaque\n";
  plots.push_back(fmt::format("{} with lines dt 2 lw 2 lc rgb '#000000' title {}", num(100 * a.target),
                              quote("target " + format_percent(a.target))));
  std::string plot = "plot ";
  for (std::size_t i = 0; i < plots.size(); ++i) plot += (i ? ", \\\n     " : "") + plots[i];
  c.commands = cmd + plot + "\n";
  return c;
}

std::optional<Chart> accuracy_vs_steps(const Analysis& a, const std::string& d, std::int64_t shots) {
  Chart c;
  c.stem = fmt::format("accuracy_vs_steps_{}_{}shot", file_safe(d), shots);
  std::vector<std::string> plots;
  std::size_t max_steps = 0;
  std::int64_t ways = 0;
  for (std::size_t mi = 0; mi < a.methods.size(); ++mi) {
    const MethodResult* m = a.find(d, shots, a.methods[mi]);
    if (!m || m->accuracy_by_step.empty()) continue;
    ways = m->ways;
    std::string rows;
    for (std::size_t s = 0; s < m->accuracy_by_step.size(); ++s)
      rows += fmt::format("{} {}\n", m->accuracy_steps[s], num(100 * m->accuracy_by_step[s]));
    max_steps = std::max(max_steps, static_cast<std::size_t>(m->accuracy_steps.back()));
    c.data += datablock(fmt::format("s{}", mi), rows);
    plots.push_back(fmt::format("$s{} using 1:2 with linespoints {} pt 7 ps 0.8 title {}", mi, line_style(a, *m),
                                quote(m->method + (m->family == "meta" ? " (meta)" : " (conventional)"))));
  }
  if (plots.empty()) return std::nullopt;
  std::string cmd = "set title " + quote(fmt::format("{}, {}-way {}-shot: query accuracy after each adaptation step on a new task",
                                                     d, ways, shots)) + "\n";
  cmd += "set xlabel 'Adaptation steps on the support set (gradient steps)'\nset ylabel 'Query accuracy (%)'\n";
  cmd += fmt::format("set yrange [0:100]\nset ytics 10\nset xrange [0:{}]\nset key inside bottom right box opaque\n", std::max<std::size_t>(max_steps, 1));
  if (ways > 0) plots.push_back(fmt::format("{} with lines dt 3 lc rgb '#606060' lw 1.5 title 'chance ({:.0f}%)'", num(100.0 / ways), 100.0 / ways));
  std::string plot = "plot ";
  for (std::size_t i = 0; i < plots.size(); ++i) plot += (i ? ", \\\n     " : "") + plots[i];
  c.commands = cmd + plot + "\n";
  return c;
}

bool on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  for (std::string dir; std::getline(ss, dir, ':');)
    if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0) return true;
  return false;
}

}  // namespace

std::string file_safe(const std::string& name) {
  std::string out;
  for (char ch : name) out += std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.' ? ch : '_';
  return out.empty() ? "_" : out;
}

void require_gnuplot(const ChartOptions& o) {
  const std::string install = "install it with scripts/install-deps.sh (Debian package gnuplot-nox, gnuplot 5 with the "
                              "pngcairo and svg terminals)";
  if (!on_path(o.gnuplot))
    throw ChartError(fmt::format("charts need gnuplot, but '{}' was not found on PATH; {}", o.gnuplot, install));
  const std::string cmd = shell_quote(o.gnuplot) + " -e \"set terminal pngcairo; set terminal svg\" 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw ChartError(fmt::format("cannot start '{}'; {}", o.gnuplot, install));
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int status = ::pclose(p);
  if (status != 0 || !out.empty())
    throw ChartError(fmt::format("'{}' cannot write PNG (pngcairo) and SVG charts: {}; {}", o.gnuplot,
                                 out.empty() ? "it failed" : out, install));
}

std::vector<std::string> write_charts(const Results& r, const Analysis& a, const std::string& out_dir, const ChartOptions& o) {
  require_gnuplot(o);
  const fs::path dir(out_dir);
  fs::create_directories(dir);
  std::vector<std::string> written;
  auto draw = [&](const Chart& c) {
    for (auto& f : render(c, dir, o)) written.push_back(std::move(f));
  };

  for (const auto& d : a.datasets) {
    Chart c;
    c.stem = "accuracy_vs_shots_" + file_safe(d);
    accuracy_vs_shots(a, d, "a", c, false);
    if (!c.data.empty()) draw(c);
  }

  const std::string schedule = r.config.schedule == "parallel" ? "methods trained concurrently" : "methods trained one at a time";
  if (auto c = bar_chart(a, "training_time", "Training time per method (meta-training / pre-training; " + schedule + ")",
                         "Training wall-clock time (s)", "no training phase",
                         [](const MethodResult& m) -> std::optional<double> { return m.train_seconds; }))
    draw(*c);
  if (auto c = bar_chart(a, "adaptation_time", "Adaptation time per new task (mean over test episodes)",
                         "Per-task adaptation time (ms)", "no adaptation time recorded",
                         [](const MethodResult& m) -> std::optional<double> { return 1000 * m.adapt_seconds; }))
    draw(*c);

  for (const auto& d : a.datasets)
    for (auto s : a.shots) {
      if (auto c = time_to_accuracy(a, d, s)) draw(*c);
      if (auto c = accuracy_vs_steps(a, d, s)) draw(*c);
    }

  if (a.datasets.size() > 1) {
    Chart c;
    c.stem = "grid_accuracy";
    const std::size_t n = a.datasets.size();
    const std::size_t cols = std::min<std::size_t>(n, 3), rows = (n + cols - 1) / cols;
    c.width = static_cast<int>(cols) * 560;
    c.height = static_cast<int>(rows) * 520 + 40;
    std::string body;
    for (std::size_t i = 0; i < n; ++i) {
      Chart part;
      accuracy_vs_shots(a, a.datasets[i], fmt::format("g{}", i), part, true);
      c.data += part.data;
      body += part.commands;
    }
    c.commands = fmt::format("set multiplot layout {},{} title 'Test accuracy vs shots, every dataset (mean ± 95% CI)'\n",
                             rows, cols) + body + "unset multiplot\n";
    draw(c);
  }
  return written;
}

}  // namespace fewshot::report

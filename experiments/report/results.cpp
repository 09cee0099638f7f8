#include "experiments/report/results.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace fewshot::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Everything the reader needs to name where a problem is: the file and a path like runs[2].test.mean.
struct Where {
  const std::string& source;
  std::string path;
  Where at(const std::string& key) const { return {source, path.empty() ? key : path + "." + key}; }
  Where index(std::size_t i) const { return {source, fmt::format("{}[{}]", path, i)}; }
  [[noreturn]] void fail(const std::string& message) const {
    throw ResultsError(fmt::format("{}: {}: {}", source, path.empty() ? "(top level)" : path, message));
  }
};

std::string type_of(const json& j) {
  if (j.is_number_integer()) return "integer";
  if (j.is_number()) return "number";
  return j.type_name();
}

std::string as_string(const json& j, const Where& w) {
  if (!j.is_string()) w.fail("expected a string, got " + type_of(j));
  return j.get<std::string>();
}
double as_number(const json& j, const Where& w) {
  if (!j.is_number()) w.fail("expected a number, got " + type_of(j));
  return j.get<double>();
}
std::int64_t as_integer(const json& j, const Where& w) {
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_number_float()) {  // 300.0 is still 300; 0.5 is not
    const double d = j.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9e15) return static_cast<std::int64_t>(d);
  }
  w.fail("expected an integer, got " + (j.is_number() ? j.dump() : type_of(j)));
}
double as_fraction(const json& j, const Where& w) {
  const double v = as_number(j, w);
  if (!(v >= 0 && v <= 1)) w.fail(fmt::format("expected an accuracy in [0, 1], got {}", v));
  return v;
}
double as_nonnegative(const json& j, const Where& w) {
  const double v = as_number(j, w);
  if (!(v >= 0)) w.fail(fmt::format("expected a number >= 0, got {}", v));
  return v;
}
const json& as_array(const json& j, const Where& w) {
  if (!j.is_array()) w.fail("expected an array, got " + type_of(j));
  return j;
}
template <class F>
auto as_list(const json& j, const Where& w, F element) {
  as_array(j, w);
  std::vector<decltype(element(j[0], w))> out;
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) out.push_back(element(j[i], w.index(i)));
  return out;
}

// An object whose fields are consumed one by one; finish() rejects any field nobody asked for.
class Object {
 public:
  Object(const json& j, Where w) : j_(j), w_(std::move(w)) {
    if (!j_.is_object()) w_.fail("expected an object, got " + type_of(j_));
  }
  const json* optional(const std::string& key) {
    known_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  const json& required(const std::string& key) {
    const json* p = optional(key);
    if (!p) w_.at(key).fail("missing required field");
    return *p;
  }
  Where at(const std::string& key) const { return w_.at(key); }
  // Field-by-field readers: required unless a default is given.
  std::string str(const std::string& k) { return as_string(required(k), at(k)); }
  std::string str(const std::string& k, const std::string& def) {
    const json* p = optional(k);
    return p ? as_string(*p, at(k)) : def;
  }
  double num(const std::string& k) { return as_number(required(k), at(k)); }
  double num(const std::string& k, double def) {
    const json* p = optional(k);
    return p ? as_number(*p, at(k)) : def;
  }
  double nonneg(const std::string& k) { return as_nonnegative(required(k), at(k)); }
  double fraction(const std::string& k) { return as_fraction(required(k), at(k)); }
  std::int64_t integer(const std::string& k) { return as_integer(required(k), at(k)); }
  std::int64_t integer(const std::string& k, std::int64_t def) {
    const json* p = optional(k);
    return p ? as_integer(*p, at(k)) : def;
  }
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!known_.count(it.key())) {
        std::string known;
        for (const auto& k : known_) known += (known.empty() ? "" : ", ") + k;
        w_.at(it.key()).fail("unknown field (expected one of: " + known + ")");
      }
  }
  // The fields nobody asked for, as an object (config keeps learner hyper-parameters this way).
  json rest() const {
    json out = json::object();
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!known_.count(it.key())) out[it.key()] = it.value();
    return out;
  }

 private:
  const json& j_;
  Where w_;
  std::set<std::string> known_;
};

Config config_from_json(const json& j, const Where& w) {
  Object o(j, w);
  Config c;
  auto strings = [](const json& e, const Where& ew) { return as_string(e, ew); };
  auto ints = [](const json& e, const Where& ew) { return as_integer(e, ew); };
  c.datasets = as_list(o.required("datasets"), o.at("datasets"), strings);
  c.ways = o.integer("ways");
  c.shots = as_list(o.required("shots"), o.at("shots"), ints);
  c.queries = o.integer("queries");
  c.methods = as_list(o.required("methods"), o.at("methods"), strings);
  c.seeds = as_list(o.required("seeds"), o.at("seeds"), ints);
  c.meta_iterations = o.integer("meta_iterations", 0);
  c.test_episodes = o.integer("test_episodes");
  c.device = o.str("device");
  c.threads = o.integer("threads");
  c.schedule = o.str("schedule");
  if (const json* p = o.optional("target_accuracy")) c.target_accuracy = as_fraction(*p, o.at("target_accuracy"));
  c.bn_mode = o.str("bn_mode", c.bn_mode);
  c.time_limit_seconds = o.num("time_limit_seconds", 0);
  c.reference_method = o.str("reference_method", "");
  if (c.ways < 2) o.at("ways").fail(fmt::format("expected at least 2 ways, got {}", c.ways));
  if (c.schedule != "parallel" && c.schedule != "sequential")
    o.at("schedule").fail("expected \"parallel\" or \"sequential\", got \"" + c.schedule + "\"");
  c.extra = o.rest();  // learner hyper-parameters: free-form by design
  return c;
}

Environment environment_from_json(const json& j, const Where& w) {
  Object o(j, w);
  Environment e;
  e.cpu = o.str("cpu");
  e.cores = o.integer("cores");
  const json& gpu = o.required("gpu");
  if (!gpu.is_null()) e.gpu = as_string(gpu, o.at("gpu"));
  e.threads = o.integer("threads");
  e.build_type = o.str("build_type");
  e.git_revision = o.str("git_revision");
  e.compiler = o.str("compiler");
  e.date = o.str("date");
  o.finish();
  return e;
}

CurvePoint curve_point_from_json(const json& j, const Where& w) {
  Object o(j, w);
  CurvePoint p;
  p.iteration = o.integer("iteration");
  p.seconds = o.nonneg("seconds");
  p.val_accuracy = o.fraction("val_accuracy");
  p.loss = o.num("loss");
  o.finish();
  return p;
}

Run run_from_json(const json& j, const Where& w) {
  Object o(j, w);
  Run r;
  r.id = o.str("id");
  r.dataset = o.str("dataset");
  r.ways = o.integer("ways");
  r.shots = o.integer("shots");
  r.queries = o.integer("queries");
  r.method = o.str("method");
  r.seed = o.integer("seed");
  r.status = o.str("status");
  if (r.status != "finished" && r.status != "running")
    o.at("status").fail("expected \"finished\" or \"running\", got \"" + r.status + "\"");
  r.schedule = o.str("schedule");
  r.family = o.str("family", default_family(r.method));
  if (r.family != "meta" && r.family != "conventional")
    o.at("family").fail("expected \"meta\" or \"conventional\", got \"" + r.family + "\"");
  {
    Where tw = o.at("train");
    Object t(o.required("train"), tw);
    r.train.iterations = t.integer("iterations");
    r.train.wall_seconds = t.nonneg("wall_seconds");
    r.train.compute_seconds = t.nonneg("compute_seconds");
    if (const json* c = t.optional("curve")) r.train.curve = as_list(*c, tw.at("curve"), curve_point_from_json);
    t.finish();
  }
  if (const json* tj = o.optional("test")) {
    Where tw = o.at("test");
    Object t(*tj, tw);
    TestInfo ti;
    ti.episodes = t.integer("episodes");
    ti.accuracies = as_list(t.required("accuracies"), tw.at("accuracies"), as_fraction);
    ti.mean = t.fraction("mean");
    ti.ci95 = t.nonneg("ci95");
    ti.adapt_seconds_mean = t.nonneg("adapt_seconds_mean");
    ti.adapt_steps = t.integer("adapt_steps");
    if (const json* s = t.optional("accuracy_by_step"))
      ti.accuracy_by_step = as_list(*s, tw.at("accuracy_by_step"), as_fraction);
    if (const json* s = t.optional("accuracy_steps"))
      ti.accuracy_steps = as_list(*s, tw.at("accuracy_steps"), [](const json& e, const Where& ew) { return as_integer(e, ew); });
    t.finish();
    if (!ti.accuracy_steps.empty() && ti.accuracy_steps.size() != ti.accuracy_by_step.size())
      tw.at("accuracy_steps").fail(fmt::format("has {} entries but accuracy_by_step has {}", ti.accuracy_steps.size(),
                                               ti.accuracy_by_step.size()));
    if (static_cast<std::size_t>(ti.episodes) != ti.accuracies.size())
      tw.at("accuracies").fail(fmt::format("has {} entries but test.episodes is {}", ti.accuracies.size(), ti.episodes));
    r.test = std::move(ti);
  } else if (r.status == "finished") {
    o.at("test").fail("missing required field (a finished run has test results)");
  }
  o.finish();
  return r;
}

json curve_to_json(const std::vector<CurvePoint>& curve) {
  json a = json::array();
  for (const auto& p : curve)
    a.push_back({{"iteration", p.iteration}, {"seconds", p.seconds}, {"val_accuracy", p.val_accuracy}, {"loss", p.loss}});
  return a;
}

[[noreturn]] void fail_errno(const std::string& what, const std::string& path) {
  throw std::runtime_error(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

}  // namespace

std::string default_family(const std::string& method) {
  static const std::set<std::string> conventional = {"scratch", "baseline", "baseline++", "pretrain",
                                                     "finetune", "pretrain+finetune", "transfer"};
  if (conventional.count(method) || method.rfind("pretrain", 0) == 0 || method.rfind("finetune", 0) == 0)
    return "conventional";
  return "meta";
}

Results results_from_json(const json& j, const std::string& source) {
  Where top{source, ""};
  Object o(j, top);
  Results r;
  r.schema = o.integer("schema");
  if (r.schema != 1) o.at("schema").fail(fmt::format("unsupported schema version {} (this build reads 1)", r.schema));
  r.command = o.str("command");
  r.config = config_from_json(o.required("config"), o.at("config"));
  r.environment = environment_from_json(o.required("environment"), o.at("environment"));
  if (const json* s = o.optional("splits")) {
    Where sw = o.at("splits");
    if (!s->is_object()) sw.fail("expected an object, got " + type_of(*s));
    for (auto it = s->begin(); it != s->end(); ++it) {
      Object so(it.value(), sw.at(it.key()));
      Split sp;
      sp.train_classes = as_array(so.required("train_classes"), so.at("train_classes")).get<std::vector<json>>();
      sp.test_classes = as_array(so.required("test_classes"), so.at("test_classes")).get<std::vector<json>>();
      so.finish();
      r.splits[it.key()] = std::move(sp);
    }
  }
  r.runs = as_list(o.required("runs"), o.at("runs"), run_from_json);
  o.finish();
  std::set<std::string> ids;
  for (std::size_t i = 0; i < r.runs.size(); ++i)
    if (!ids.insert(r.runs[i].id).second) top.at("runs").index(i).at("id").fail("duplicate run id \"" + r.runs[i].id + "\"");
  return r;
}

json results_to_json(const Results& r) {
  json config = r.config.extra.is_object() ? r.config.extra : json::object();
  const Config& c = r.config;
  config.update(json{{"datasets", c.datasets}, {"ways", c.ways}, {"shots", c.shots}, {"queries", c.queries},
                     {"methods", c.methods}, {"seeds", c.seeds}, {"meta_iterations", c.meta_iterations},
                     {"test_episodes", c.test_episodes}, {"device", c.device}, {"threads", c.threads},
                     {"schedule", c.schedule}, {"target_accuracy", c.target_accuracy}, {"bn_mode", c.bn_mode},
                     {"time_limit_seconds", c.time_limit_seconds}});
  if (!c.reference_method.empty()) config["reference_method"] = c.reference_method;
  const Environment& e = r.environment;
  json env = {{"cpu", e.cpu}, {"cores", e.cores}, {"gpu", e.gpu ? json(*e.gpu) : json(nullptr)},
              {"threads", e.threads}, {"build_type", e.build_type}, {"git_revision", e.git_revision},
              {"compiler", e.compiler}, {"date", e.date}};
  json splits = json::object();
  for (const auto& [name, s] : r.splits) splits[name] = {{"train_classes", s.train_classes}, {"test_classes", s.test_classes}};
  json runs = json::array();
  for (const Run& run : r.runs) {
    json jr = {{"id", run.id}, {"dataset", run.dataset}, {"ways", run.ways}, {"shots", run.shots},
               {"queries", run.queries}, {"method", run.method}, {"seed", run.seed}, {"status", run.status},
               {"schedule", run.schedule}, {"family", run.family.empty() ? default_family(run.method) : run.family},
               {"train", {{"iterations", run.train.iterations}, {"wall_seconds", run.train.wall_seconds},
                          {"compute_seconds", run.train.compute_seconds}, {"curve", curve_to_json(run.train.curve)}}}};
    if (run.test) {
      const TestInfo& t = *run.test;
      jr["test"] = {{"episodes", t.episodes}, {"accuracies", t.accuracies}, {"mean", t.mean}, {"ci95", t.ci95},
                    {"adapt_seconds_mean", t.adapt_seconds_mean}, {"adapt_steps", t.adapt_steps},
                    {"accuracy_by_step", t.accuracy_by_step}};
      if (!t.accuracy_steps.empty()) jr["test"]["accuracy_steps"] = t.accuracy_steps;
    }
    runs.push_back(std::move(jr));
  }
  return {{"schema", r.schema}, {"command", r.command}, {"config", std::move(config)},
          {"environment", std::move(env)}, {"splits", std::move(splits)}, {"runs", std::move(runs)}};
}

Results load_results(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ResultsError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw ResultsError(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
  Results r = results_from_json(j, path);
  const fs::path curves = fs::path(path).parent_path() / "curves";
  for (Run& run : r.runs) {
    const fs::path csv = curves / (run.id + ".csv");
    if (run.train.curve.empty() && fs::exists(csv)) run.train.curve = read_curve_csv(csv.string());
  }
  return r;
}

Results load_results_dir(const std::string& dir) { return load_results((fs::path(dir) / "results.json").string()); }

void save_results(const Results& r, const std::string& path) { write_file_atomic(path, results_to_json(r).dump(2) + "\n"); }

std::vector<CurvePoint> read_curve_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ResultsError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::string line;
  const std::string header = "iteration,seconds,val_accuracy,loss";
  if (!std::getline(in, line) || (line != header && line != header + "\r"))
    throw ResultsError(fmt::format("{}:1: expected the header \"{}\", got \"{}\"", path, header, line));
  std::vector<CurvePoint> curve;
  for (int number = 2; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (cells.size() != 4)
      throw ResultsError(fmt::format("{}:{}: expected 4 comma-separated values, got {}", path, number, cells.size()));
    static const char* names[] = {"iteration", "seconds", "val_accuracy", "loss"};
    double v[4];
    for (int k = 0; k < 4; ++k) {
      char* end = nullptr;
      v[k] = std::strtod(cells[k].c_str(), &end);
      if (cells[k].empty() || *end != '\0')
        throw ResultsError(fmt::format("{}:{}: {}: \"{}\" is not a number", path, number, names[k], cells[k]));
    }
    if (!(v[2] >= 0 && v[2] <= 1))
      throw ResultsError(fmt::format("{}:{}: val_accuracy: expected an accuracy in [0, 1], got {}", path, number, v[2]));
    curve.push_back({static_cast<std::int64_t>(v[0]), v[1], v[2], v[3]});
  }
  return curve;
}

void write_curve_csv(const std::vector<CurvePoint>& curve, const std::string& path) {
  std::string s = "iteration,seconds,val_accuracy,loss\n";
  for (const auto& p : curve) s += fmt::format("{},{},{},{}\n", p.iteration, p.seconds, p.val_accuracy, p.loss);
  write_file_atomic(path, s);
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno("cannot create", tmp);
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      errno = saved;
      fail_errno("cannot write", tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    fail_errno("cannot fsync", tmp);
  }
  if (::close(fd) != 0) fail_errno("cannot close", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail_errno("cannot rename " + tmp + " to", path);
  // Make the rename itself durable.
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace fewshot::report

// `fewshot data info NAME`: what was found on disk and the few-shot split in use.
// `fewshot data fetch NAME...`: runs scripts/fetch-data.sh (mirror first, then download).
#include <cstdlib>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "data/dataset.h"
#include "data/sinusoid.h"
#include "data/split.h"
#include "experiments/commands.h"

namespace fewshot {
namespace {

namespace fd = fewshot::data;

struct InfoArgs {
  std::string name;
  std::string split;
  std::string cross;
  std::string data_dir;
  std::string split_json;
  int64_t image_size = 0;
  bool no_rotations = false;
};

std::string class_list(const std::vector<fd::FewShotClass>& cs) {
  std::ostringstream s;
  const size_t shown = std::min<size_t>(cs.size(), 10);
  for (size_t i = 0; i < shown; ++i) s << (i ? ", " : "") << cs[i].name;
  if (cs.size() > shown) s << ", ... (" << cs.size() - shown << " more)";
  return s.str();
}

void print_images(const char* what, const fd::ImageSet& s, const std::string& source) {
  fmt::print("{:<6} {} images, {} classes  [{}]\n", what, s.size(), s.class_names.size(), source);
  if (s.class_names.size() <= 20 && s.size() > 0) {
    const auto counts = s.class_counts();
    std::string line;
    for (size_t c = 0; c < counts.size(); ++c) line += fmt::format("{}{}={}", c ? ", " : "", s.class_names[c], counts[c]);
    fmt::print("       per class: {}\n", line);
  }
}

int run_info(const InfoArgs& a) {
  fd::LoadOptions opts;
  opts.data_dir = a.data_dir;
  opts.image_size = a.image_size;
  fmt::print("dataset: {}\ndata dir: {}\n", a.name, fd::data_dir(opts).string());
  const fd::Dataset d = fd::load_dataset(a.name, opts);
  if (d.regression) {
    const fd::SinusoidFamily f;
    fmt::print("sinusoid regression family (MAML): y = A sin(x - phase), A ~ U[{}, {}], phase ~ U[{}, {:.4f}], "
               "x ~ U[{}, {}]; generated from a seed, no files, no class split\n",
               f.amplitude_min, f.amplitude_max, f.phase_min, f.phase_max, f.x_min, f.x_max);
    return 0;
  }
  print_images("train", d.train, d.train_source);
  print_images("test", d.test, d.test_source);
  fmt::print("image size: {}x{}x{} (CxHxW)\n", d.channels(), d.height(), d.width());
  std::string mean, std;
  for (size_t c = 0; c < d.norm.mean.size(); ++c) {
    mean += fmt::format("{}{:.4f}", c ? ", " : "", d.norm.mean[c]);
    std += fmt::format("{}{:.4f}", c ? ", " : "", d.norm.std[c]);
  }
  fmt::print("normalization (from train): mean [{}], std [{}]\n", mean, std);
  for (const auto& n : d.notes) fmt::print("note: {}\n", n);

  fd::SplitOptions so;
  so.spec = a.split;
  so.rotations = !a.no_rotations;
  fd::FewShotSplit split;
  if (!a.cross.empty()) {
    const fd::Dataset other = fd::load_dataset(a.cross, opts);
    split = fd::make_cross_split(d, other, so);
  } else {
    split = fd::make_split(d, so);
  }
  fmt::print("few-shot split ({}): {}\n", split.protocol, split.description);
  fmt::print("  meta-train: {} classes: {}\n", split.meta_train.size(), class_list(split.meta_train));
  fmt::print("  meta-val:   {} classes: {}\n", split.meta_val.size(), class_list(split.meta_val));
  fmt::print("  meta-test:  {} classes: {}\n", split.meta_test.size(), class_list(split.meta_test));
  if (!a.split_json.empty()) {
    split.save(a.split_json);
    fmt::print("split written to {}\n", a.split_json);
  }
  return 0;
}

int run_fetch(const std::vector<std::string>& names) {
  std::string cmd = "'" + (fd::repo_dir() / "scripts" / "fetch-data.sh").string() + "'";
  for (const auto& n : names) {
    if (n.find_first_of("'\"$`\\ ;&|") != std::string::npos) throw fd::DataError("bad dataset name '" + n + "'");
    cmd += " " + n;
  }
  const int rc = std::system(cmd.c_str());
  return rc == 0 ? 0 : 1;
}

}  // namespace

void register_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Datasets: what is on disk, fetching");
  data->require_subcommand(1);

  auto args = std::make_shared<InfoArgs>();
  auto* info = data->add_subcommand("info", "Image counts, image size, classes and the few-shot split of a dataset");
  info->add_option("name", args->name, "mnist, fashion-mnist, cifar10, omniglot, sinusoid or folder:PATH")->required();
  info->add_option("--split", args->split,
                   "Class split: omniglot 'maml' (default) or 'vinyals'; any: 'train=0,1,2,3,4;val=;test=5,6,7,8,9'");
  info->add_option("--cross", args->cross, "Cross-dataset: meta-test on this dataset's test classes (same image size)");
  info->add_option("--image-size", args->image_size, "Side length for omniglot (default 28) and folders (default 84)");
  info->add_option("--data-dir", args->data_dir, "Data folder (default $FEWSHOT_DATA_DIR, else <repo>/data-cache)");
  info->add_option("--split-json", args->split_json, "Write the split to this file (split.json)");
  info->add_flag("--no-rotations", args->no_rotations, "Omniglot: no rotated copies as extra classes");
  info->callback([args] {
    try {
      if (const int rc = run_info(*args); rc != 0) throw CLI::RuntimeError(rc);
    } catch (const fd::DataError& e) {
      std::cerr << "error: " << e.what() << '\n';
      throw CLI::RuntimeError(1);
    }
  });

  auto names = std::make_shared<std::vector<std::string>>();
  auto* fetch = data->add_subcommand("fetch", "Fetch datasets into the data folder (scripts/fetch-data.sh)");
  fetch->add_option("names", *names, "mnist fashion-mnist cifar10 omniglot all")->required();
  fetch->callback([names] {
    if (const int rc = run_fetch(*names); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace fewshot

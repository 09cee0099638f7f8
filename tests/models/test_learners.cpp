#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <filesystem>

#include "engine/ops.h"
#include "models/evaluate.h"
#include "models/learner.h"
#include "models/protonet.h"
#include "synthetic.h"

using namespace fewshot;
using namespace fewshot::models;
using fewshot::testing::ImageFamily;
namespace fs = std::filesystem;

namespace {

fs::path temp_path(const std::string& name) {
  fs::path d = fs::temp_directory_path() / fmt::format("fewshot-learners-test-{}", ::getpid());
  fs::create_directories(d);
  return d / name;
}

double rel_diff(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = a[i].to_vector(), y = b[i].to_vector();
    for (size_t j = 0; j < x.size(); ++j) {
      num += (x[j] - y[j]) * (x[j] - y[j]);
      den += y[j] * y[j];
    }
  }
  return std::sqrt(num / den);
}

}  // namespace

TEST_CASE("unknown learner names are an error that lists the valid ones") {
  CHECK_THROWS_WITH_AS(make_learner("mamll"), doctest::Contains("maml, fomaml, reptile, anil, metasgd, protonet"),
                       ValueError);
  for (auto& n : learner_names()) CHECK(make_learner(n)->name() == n);
}

TEST_CASE("meta-training lowers the post-adaptation query loss of every meta-learner") {
  ImageFamily fam;
  TrainData data = fam.train_data(0);
  auto test = fam.test_tasks(16);
  for (std::string m : {"maml", "fomaml", "reptile", "anil", "metasgd", "protonet"}) {
    CAPTURE(m);
    LearnerConfig c = fam.config(m);
    c.iterations = m == "reptile" ? 200 : m == "anil" ? 300 : 100;
    if (m == "anil") c.inner_steps_train = 3, c.inner_steps_test = 3;
    if (m == "reptile") c.inner_steps_train = 3, c.inner_steps_test = 3;
    auto l = make_learner(m, c);
    EvalResult before = evaluate(*l, test);
    TrainHooks hooks;
    TrainResult tr = l->train(data, hooks);
    CHECK(tr.iterations == c.iterations);
    EvalResult after = evaluate(*l, test);
    MESSAGE(m << ": post-adaptation query loss " << before.loss_mean << " -> " << after.loss_mean << ", accuracy "
              << before.mean << " -> " << after.mean << " (" << tr.compute_seconds << " s)");
    CHECK(after.loss_mean < 0.8 * before.loss_mean);
  }
}

TEST_CASE("first-order MAML and Reptile move the parameters differently from second-order MAML") {
  ImageFamily fam;
  Generator g(11);
  std::vector<Task> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(fam.task(g));
  auto maml = make_learner("maml", fam.config("maml"));
  auto fo = make_learner("fomaml", fam.config("fomaml"));
  auto rep = make_learner("reptile", fam.config("reptile"));
  CHECK(rel_diff(fo->params().tensors, maml->params().tensors) == 0.0);  // same initialization
  auto gm = maml->outer_direction(batch), gf = fo->outer_direction(batch), gr = rep->outer_direction(batch);
  double d_fo = rel_diff(gf, gm), d_rep = rel_diff(gr, gm);
  MESSAGE("relative difference from the MAML meta-gradient: first-order " << d_fo << ", Reptile " << d_rep);
  CHECK(d_fo > 1e-2);
  CHECK(d_rep > 1e-2);
  // The same batch twice gives the same meta-gradient (no hidden state).
  CHECK(rel_diff(maml->outer_direction(batch), gm) < 1e-6);
  // With zero inner steps all three coincide up to Reptile's scale: a sanity check of the wiring.
  auto c0 = fam.config("maml");
  c0.inner_steps_train = 0;
  auto m0 = make_learner("maml", c0);
  c0.method = "fomaml";
  auto f0 = make_learner("fomaml", c0);
  CHECK(rel_diff(f0->outer_direction(batch), m0->outer_direction(batch)) < 1e-6);
}

TEST_CASE("ProtoNets' prototypes are the support means") {
  Generator g(5);
  Tensor emb = randn(Shape{6, 4}, g);
  Tensor y = Tensor::from_indices({2, 0, 1, 0, 2, 2}, Shape{6});
  auto p = prototypes(emb, y, 3).to_vector();
  auto e = emb.to_vector();
  auto lab = y.to_indices();
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t d = 0; d < 4; ++d) {
      double s = 0;
      int n = 0;
      for (int64_t i = 0; i < 6; ++i)
        if (lab[i] == c) s += e[i * 4 + d], ++n;
      CHECK(p[c * 4 + d] == doctest::Approx(s / n).epsilon(1e-6));
    }
  // A query equal to a prototype is classified as that class.
  Tensor protos = prototypes(emb, y, 3);
  Tensor logits = proto_logits(narrow(protos, 0, 1, 1), protos);
  CHECK(argmax(logits, 1).to_indices()[0] == 1);
}

TEST_CASE("scratch, baseline and baseline++ run through the same interface and beat chance") {
  ImageFamily fam;
  TrainData data = fam.train_data(4);
  auto test = fam.test_tasks(10);
  for (std::string m : {"scratch", "baseline", "baseline++"}) {
    CAPTURE(m);
    LearnerConfig c = fam.config(m);
    c.iterations = 60;
    c.pretrain_batch = 32;
    c.finetune_epochs = 30;
    c.scratch_steps = 30;
    c.scratch_lr = 1e-2;
    auto l = make_learner(m, c);
    TrainHooks hooks;
    hooks.val_every = 30;
    TrainResult tr = l->train(data, hooks);
    EvalResult r = evaluate(*l, test);
    MESSAGE(m << ": accuracy " << r.mean << " +- " << r.ci95 << ", adapt " << r.adapt_seconds_mean << " s, "
              << r.adapt_steps_mean << " steps; by step:" << [&] {
                   std::string s;
                   for (size_t i = 0; i < r.steps.size(); ++i) s += fmt::format(" {}:{:.2f}", r.steps[i], r.accuracy_by_step[i]);
                   return s;
                 }());
    CHECK(r.mean > 0.5);  // chance is 1/3
    CHECK(r.accuracies.size() == 10);
    CHECK(r.steps.front() == 0);
    if (m != "scratch") CHECK(tr.curve.size() == 3);  // iterations 0, 30, 60
  }
}

TEST_CASE("the test-time batch-norm mode changes predictions (transductive vs support statistics)") {
  ImageFamily fam;
  Generator g(3);
  Task t = fam.task(g);
  LearnerConfig c = fam.config("maml");
  auto a = make_learner("maml", c);
  c.bn_mode = BNMode::support;
  auto b = make_learner("maml", c);
  AdaptResult ra = a->adapt(t), rb = b->adapt(t);
  MESSAGE("query loss transductive " << ra.loss << ", support statistics " << rb.loss);
  CHECK(std::abs(ra.loss_by_step[0] - rb.loss_by_step[0]) > 1e-4);
  CHECK(ra.steps.size() == 4);  // 0..3 steps
}

TEST_CASE("a resumed run continues exactly where the interrupted one stopped") {
  ImageFamily fam;
  TrainData data = fam.train_data(2);
  for (std::string m : {"maml", "protonet"}) {
    CAPTURE(m);
    LearnerConfig c = fam.config(m);
    c.iterations = 6;
    auto whole = make_learner(m, c);
    TrainHooks h0;
    whole->train(data, h0);

    fs::path ck = temp_path(m + "-resume.safetensors");
    fs::remove(ck);
    std::atomic<bool> stop{false};
    auto first = make_learner(m, c);
    TrainHooks h1;
    h1.checkpoint_path = ck;
    h1.checkpoint_every = 2;
    h1.val_every = 2;
    h1.stop = &stop;
    h1.on_progress = [&](const Progress& p) { if (p.iteration == 3) stop = true; };
    TrainResult r1 = first->train(data, h1);
    CHECK(r1.stopped);
    CHECK(r1.iterations == 3);

    auto second = make_learner(m, c);  // a fresh process, in effect
    TrainHooks h2;
    h2.checkpoint_path = ck;
    h2.checkpoint_every = 2;
    h2.val_every = 2;
    TrainResult r2 = second->train(data, h2);
    CHECK(r2.start_iteration == 3);
    CHECK(r2.iterations == 6);
    CHECK(r2.curve.front().iteration == 0);  // the curve survives the restart
    CHECK(r2.curve.back().iteration == 6);
    CHECK(rel_diff(second->params().tensors, whole->params().tensors) == 0.0);
  }
}

TEST_CASE("divergence stops training with the iteration and the last good checkpoint") {
  ImageFamily fam;
  TrainData data = fam.train_data(0);
  LearnerConfig c = fam.config("maml");
  c.inner_lr = 1e30;
  c.iterations = 5;
  {
    auto l = make_learner("maml", c);
    TrainHooks h;
    CHECK_THROWS_WITH_AS(l->train(data, h), doctest::Contains("diverged at iteration 0"), DivergenceError);
    try {
      l->train(data, h);
    } catch (const DivergenceError& e) {
      CHECK(std::string(e.what()).find("no checkpoint was written") != std::string::npos);
    }
  }
  // Poisoned data from the third iteration on, after a checkpoint at iteration 2.
  c = fam.config("fomaml");
  c.iterations = 5;
  int calls = 0;
  TrainData bad = data;
  bad.sample_task = [&](Generator& g) {
    Task t = fam.task(g, 0, 10);
    if (++calls > 2 * c.meta_batch) t.support_x = mul(t.support_x, INFINITY);
    return t;
  };
  auto l = make_learner("fomaml", c);
  fs::path ck = temp_path("diverge.safetensors");
  fs::remove(ck);
  TrainHooks h;
  h.checkpoint_path = ck;
  h.checkpoint_every = 1;
  try {
    l->train(bad, h);
    FAIL("expected a DivergenceError");
  } catch (const DivergenceError& e) {
    MESSAGE(std::string(e.what()));
    CHECK(e.iteration == 2);
    CHECK(e.last_checkpoint == ck.string());
    CHECK(std::string(e.what()).find(ck.string()) != std::string::npos);
  }
}

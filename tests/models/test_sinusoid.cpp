// The MAML paper's sinusoid experiment (Finn et al. 2017, Figure 2), scaled down: after
// meta-training, MAML adapted with a few gradient steps on K = 10 points fits a new sinusoid
// better than the same network pretrained on all tasks (regressing their mixture) and then
// fine-tuned the same way.
#include <doctest/doctest.h>

#include "engine/ops.h"
#include "models/evaluate.h"
#include "models/learner.h"
#include "synthetic.h"

using namespace fewshot;
using namespace fewshot::models;

TEST_CASE("sinusoid 10-shot: MAML beats pretraining on all tasks + fine-tuning in post-adaptation MSE") {
  testing::Sinusoid family;
  TrainData data;
  data.sample_task = [&](Generator& g) { return family.task(g); };
  auto test = family.tasks(100, 777);

  LearnerConfig c = LearnerConfig::defaults("maml");
  c.backbone = BackboneConfig::mlp_for(1, 1);  // 1-40-40-1 ReLU
  c.ways = 0;
  c.inner_lr = 0.01;  // the paper's sinusoid settings: alpha 0.01, Adam 1e-3, 1 inner step
  c.inner_steps_train = 1;
  c.inner_steps_test = 10;
  c.meta_batch = 10;
  c.meta_lr = 3e-3;
  c.iterations = 2500;
  c.seed = 1;
  auto maml = make_learner("maml", c);
  TrainHooks hooks;
  TrainResult tr = maml->train(data, hooks);
  EvalResult rm = evaluate(*maml, test);

  // Pretrained: the same MLP and the same number of gradient evaluations on all tasks' points,
  // then fine-tuned exactly as MAML adapts (the learner's adapt: 10 SGD steps, lr 0.01).
  c.seed = 1;
  auto pre = make_learner("maml", c);  // reuse its adapt(); train its parameters here
  ParamList& p = pre->params();
  Adam opt(p.tensors, c.meta_lr);
  Generator g(2);
  for (int64_t it = 0; it < c.iterations; ++it) {
    Tensor loss;
    for (int64_t b = 0; b < c.meta_batch; ++b) {
      Task t = family.task(g);
      Tensor l = mse_loss(pre->backbone().forward(cat({t.support_x, t.query_x}, 0), p), cat({t.support_y, t.query_y}, 0));
      loss = loss.defined() ? add(loss, l) : l;
    }
    opt.step(p.tensors, grad({mul(loss, 1.0 / c.meta_batch)}, p.tensors));
  }
  EvalResult rp = evaluate(*pre, test);
  MESSAGE("MAML: MSE after 0/1/10 steps " << rm.loss_by_step[0] << " / " << rm.loss_by_step[1] << " / "
                                          << rm.loss_by_step.back() << " (" << tr.compute_seconds << " s training)");
  MESSAGE("pretrained: MSE after 0/1/10 steps " << rp.loss_by_step[0] << " / " << rp.loss_by_step[1] << " / "
                                                << rp.loss_by_step.back());
  std::string a, b;
  for (size_t i = 0; i < rm.loss_by_step.size(); ++i) a += fmt::format(" {:.3f}", rm.loss_by_step[i]), b += fmt::format(" {:.3f}", rp.loss_by_step[i]);
  MESSAGE("by step: MAML" << a << "; pretrained" << b);
  CHECK(rm.loss_by_step[1] < rp.loss_by_step[1]);
  CHECK(rm.loss_by_step.back() < 0.7 * rp.loss_by_step.back());
}

#include <doctest/doctest.h>

#include "engine/ops.h"
#include "models/backbone.h"

using namespace fewshot;
using namespace fewshot::models;

TEST_CASE("conv4 parameters, names and feature sizes follow the MAML paper's two settings") {
  Generator g(0);
  Backbone omni(BackboneConfig::conv4_for(1, 28, 28, 5));
  CHECK(omni.config().filters == 64);
  CHECK_FALSE(omni.config().max_pool);
  CHECK(omni.feature_dim() == 64);  // strided convs, spatial mean
  ParamList p = omni.init(g);
  REQUIRE(p.size() == 14);
  CHECK(p.names[0] == "conv1.weight");
  CHECK(p.names[1] == "bn1.weight");
  CHECK(p.names[12] == "head.weight");
  CHECK(p[12].shape() == Shape{5, 64});
  CHECK(omni.body_size() == 12);
  Tensor out = omni.forward(randn(Shape{3, 1, 28, 28}, g), p);
  CHECK(out.shape() == Shape{3, 5});

  Backbone mini(BackboneConfig::conv4_for(3, 84, 84, 5));
  CHECK(mini.config().filters == 32);
  CHECK(mini.config().max_pool);
  CHECK(mini.feature_dim() == 32 * 5 * 5);

  Backbone mlp(BackboneConfig::mlp_for(1, 1));
  ParamList mp = mlp.init(g);
  CHECK(mp.size() == 6);  // 1-40-40-1
  CHECK(mlp.forward(randn(Shape{7, 1}, g), mp).shape() == Shape{7, 1});
  CHECK_THROWS_WITH_AS(mp.at("nope"), doctest::Contains("fc1.weight"), ValueError);
}

TEST_CASE("forward is a function of the parameters it is given") {
  Generator g(1);
  Backbone net(BackboneConfig::mlp_for(2, 3, {4}));
  ParamList p = net.init(g);
  Tensor x = randn(Shape{5, 2}, g);
  Tensor a = net.forward(x, p);
  ParamList q = p.with({p[0], p[1], mul(p[2], 2.0), mul(p[3], 2.0)});
  Tensor b = net.forward(x, q);
  auto av = a.to_vector(), bv = b.to_vector();
  for (size_t i = 0; i < av.size(); ++i) CHECK(bv[i] == doctest::Approx(2 * av[i]).epsilon(1e-5));
}

TEST_CASE("batch_norm_rows: all rows equals batch_norm; support rows normalize the rest with support statistics") {
  Generator g(2);
  Tensor x = randn(Shape{6, 3, 2, 2}, g, DType::Float64);
  Tensor gamma = rand_uniform(Shape{3}, 0.5, 1.5, g, DType::Float64), beta = randn(Shape{3}, g, DType::Float64);
  auto full = batch_norm(x, gamma, beta).to_vector();
  auto rows_all = batch_norm_rows(narrow(x, 0, 0, 6), gamma, beta, 6).to_vector();
  for (size_t i = 0; i < full.size(); ++i) CHECK(rows_all[i] == doctest::Approx(full[i]));
  // With stats from the first 2 rows, those rows match batch_norm on them alone.
  auto two = batch_norm_rows(x, gamma, beta, 2);
  auto ref = batch_norm(narrow(x, 0, 0, 2), gamma, beta).to_vector();
  auto got = narrow(two, 0, 0, 2).to_vector();
  for (size_t i = 0; i < ref.size(); ++i) CHECK(got[i] == doctest::Approx(ref[i]).epsilon(1e-9));
  // ... and the composite is differentiable twice (gradgradcheck through the support statistics).
  Tensor xs = x.detach().set_requires_grad(true);
  auto gx = grad({sum(mul(batch_norm_rows(xs, gamma, beta, 2), batch_norm_rows(xs, gamma, beta, 2)))}, {xs}, {}, true);
  auto ggx = grad({sum(gx[0])}, {xs});
  CHECK(ggx[0].shape() == x.shape());
}

// Convolution ops. Adjoint identities used for the derivatives (<.,.> is the elementwise inner product):
//   <gy, conv(x, w)> = <x, input_grad(gy, w)> = <w, weight_grad(x, gy)>
// so for z = input_grad(g, w): dg = conv(gz, w), dw = weight_grad(gz, g);
// and for z = weight_grad(x, g): dx = input_grad(g, gz), dg = conv(x, gz).
#include "engine/ops/conv.h"

#include "engine/autograd/node.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_checks.h"
#include "engine/ops/shape_ops.h"

namespace fewshot {

namespace {

Tensor conv_raw(const Tensor& x, const Tensor& w, const ConvParams& p);

Shape x_shape(const ConvParams& p) { return Shape{p.N, p.C, p.H, p.W}; }
Shape w_shape(const ConvParams& p) { return Shape{p.OC, p.C / p.groups, p.KH, p.KW}; }
Shape y_shape(const ConvParams& p) { return Shape{p.N, p.OC, p.OH, p.OW}; }

void check_operand(const char* op, const Tensor& t, const Shape& expected, const char* what) {
  check<ShapeError>(t.shape() == expected, "{}: {} has shape {}, expected {}", op, what, t.shape().str(),
                    expected.str());
}

Tensor conv_raw(const Tensor& x, const Tensor& w, const ConvParams& p) {
  Tensor y = Tensor::empty(y_shape(p), x.dtype(), x.device());
  if (y.numel()) backend_for(x).conv2d_forward(p, x, w, y);
  return record_op("conv2d", {x, w}, y, [p](const BackwardContext& c) {
    Tensor g = c.grad();
    return std::vector<Tensor>{c.needs_grad(0) ? conv2d_input_grad(g, c.input(1), p) : Tensor(),
                               c.needs_grad(1) ? conv2d_weight_grad(c.input(0), g, p) : Tensor()};
  });
}

}  // namespace

ConvParams conv2d_params(const Shape& xs, const Shape& ws, const Conv2dOptions& opt) {
  check<ShapeError>(xs.dim() == 4, "conv2d: input must be 4-D (N, C, H, W), got {}", xs.str());
  check<ShapeError>(ws.dim() == 4, "conv2d: weight must be 4-D (OC, C/groups, KH, KW), got {}", ws.str());
  check<ValueError>(opt.stride >= 1 && opt.padding >= 0 && opt.groups >= 1,
                    "conv2d: invalid stride {}, padding {} or groups {}", opt.stride, opt.padding, opt.groups);
  ConvParams p{};
  p.N = xs[0], p.C = xs[1], p.H = xs[2], p.W = xs[3];
  p.OC = ws[0], p.KH = ws[2], p.KW = ws[3];
  p.stride_h = p.stride_w = opt.stride;
  p.pad_h = p.pad_w = opt.padding;
  p.groups = opt.groups;
  check<ShapeError>(p.C % p.groups == 0 && p.OC % p.groups == 0,
                    "conv2d: {} input channels and {} output channels must both divide into {} groups", p.C, p.OC,
                    p.groups);
  check<ShapeError>(ws[1] * p.groups == p.C,
                    "conv2d: weight {} expects {} input channels ({} per group x {} groups) but input {} has {}",
                    ws.str(), ws[1] * p.groups, ws[1], p.groups, xs.str(), p.C);
  p.OH = (p.H + 2 * p.pad_h - p.KH) / p.stride_h + 1;
  p.OW = (p.W + 2 * p.pad_w - p.KW) / p.stride_w + 1;
  check<ShapeError>(p.H + 2 * p.pad_h >= p.KH && p.W + 2 * p.pad_w >= p.KW && p.OH >= 1 && p.OW >= 1,
                    "conv2d: kernel {}x{} does not fit input {} with padding {}", p.KH, p.KW, xs.str(), opt.padding);
  return p;
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, Conv2dOptions opt) {
  detail::check_floating("conv2d", x);
  detail::check_same("conv2d", x, w);
  ConvParams p = conv2d_params(x.shape(), w.shape(), opt);
  Tensor y = conv_raw(x, w, p);
  if (!bias.defined()) return y;
  detail::check_same("conv2d", x, bias);
  check<ShapeError>(bias.dim() == 1 && bias.size(0) == p.OC, "conv2d: bias {} must be ({},)", bias.shape().str(),
                    p.OC);
  return add(y, reshape(bias, Shape{1, p.OC, 1, 1}));
}

Tensor conv2d_input_grad(const Tensor& gy, const Tensor& w, const ConvParams& p) {
  detail::check_floating("conv2d_input_grad", gy);
  detail::check_same("conv2d_input_grad", gy, w);
  check_operand("conv2d_input_grad", gy, y_shape(p), "output gradient");
  check_operand("conv2d_input_grad", w, w_shape(p), "weight");
  Tensor gx = Tensor::empty(x_shape(p), gy.dtype(), gy.device());
  if (gx.numel()) backend_for(gy).conv2d_input_grad(p, gy, w, gx);
  return record_op("conv2d_input_grad", {gy, w}, gx, [p](const BackwardContext& c) {
    Tensor gz = c.grad();
    return std::vector<Tensor>{c.needs_grad(0) ? conv_raw(gz, c.input(1), p) : Tensor(),
                               c.needs_grad(1) ? conv2d_weight_grad(gz, c.input(0), p) : Tensor()};
  });
}

Tensor conv2d_weight_grad(const Tensor& x, const Tensor& gy, const ConvParams& p) {
  detail::check_floating("conv2d_weight_grad", x);
  detail::check_same("conv2d_weight_grad", x, gy);
  check_operand("conv2d_weight_grad", x, x_shape(p), "input");
  check_operand("conv2d_weight_grad", gy, y_shape(p), "output gradient");
  Tensor gw = Tensor::empty(w_shape(p), x.dtype(), x.device());
  if (gw.numel()) backend_for(x).conv2d_weight_grad(p, x, gy, gw);
  return record_op("conv2d_weight_grad", {x, gy}, gw, [p](const BackwardContext& c) {
    Tensor gz = c.grad();
    return std::vector<Tensor>{c.needs_grad(0) ? conv2d_input_grad(c.input(1), gz, p) : Tensor(),
                               c.needs_grad(1) ? conv_raw(c.input(0), gz, p) : Tensor()};
  });
}

}  // namespace fewshot

// 2-D convolution (cross-correlation, as in PyTorch) for the CPU backend: raw pointers, NCHW,
// float and double, with the two gradients its backward needs.
#pragma once

#include <cstdint>

namespace fewshot::cpu {

struct Conv2dGeometry {
  int64_t N, C, H, W;  // input x is (N, C, H, W)
  int64_t OC, KH, KW;  // weight w is (OC, C/groups, KH, KW)
  int64_t stride_h, stride_w, pad_h, pad_w, groups;
  int64_t OH, OW;      // output y is (N, OC, OH, OW); OH = (H + 2*pad_h - KH)/stride_h + 1
};

// Fills in OH/OW. Throws std::invalid_argument naming the numbers when the geometry is
// inconsistent: C or OC not divisible by groups, an output size < 1, a non-positive size,
// stride or group count, or a negative padding. N == 0 (empty batch) is allowed.
Conv2dGeometry conv2d_geometry(int64_t N, int64_t C, int64_t H, int64_t W, int64_t OC, int64_t KH,
                               int64_t KW, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                               int64_t pad_w, int64_t groups);

// y = conv(x, w), no bias. WRITES y (N, OC, OH, OW).
template <typename T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, T* y);

// dx = dL/dx given gy = dL/dy (the transposed convolution). WRITES gx (N, C, H, W).
template <typename T>
void conv2d_input_grad(const Conv2dGeometry& g, const T* gy, const T* w, T* gx);

// dw = dL/dw, summed over the batch in a fixed order (bit-identical run to run, whatever the
// thread count). WRITES gw (OC, C/groups, KH, KW).
template <typename T>
void conv2d_weight_grad(const Conv2dGeometry& g, const T* x, const T* gy, T* gw);

extern template void conv2d_forward<float>(const Conv2dGeometry&, const float*, const float*,
                                           float*);
extern template void conv2d_forward<double>(const Conv2dGeometry&, const double*, const double*,
                                            double*);
extern template void conv2d_input_grad<float>(const Conv2dGeometry&, const float*, const float*,
                                              float*);
extern template void conv2d_input_grad<double>(const Conv2dGeometry&, const double*,
                                               const double*, double*);
extern template void conv2d_weight_grad<float>(const Conv2dGeometry&, const float*, const float*,
                                               float*);
extern template void conv2d_weight_grad<double>(const Conv2dGeometry&, const double*,
                                                const double*, double*);

}  // namespace fewshot::cpu

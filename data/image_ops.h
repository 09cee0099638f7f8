#pragma once
// Pixel-level helpers shared by the loaders and the episode materializer.
#include <cstdint>

namespace fewshot::data {

// Resizes a C x H x W float image to C x OH x OW. Separable: along an axis that shrinks, each output
// pixel is the coverage-weighted mean of the input pixels under its footprint (exact area/box
// filter, what OpenCV calls INTER_AREA, so 105 -> 28 does not alias); along an axis that grows, it
// is linear interpolation between pixel centres. Same size: a copy.
void resize_area(const float* src, int64_t channels, int64_t h, int64_t w, float* dst, int64_t oh,
                 int64_t ow);

// Rotates a C x S x S image counter-clockwise by `degrees` (0, 90, 180 or 270) into dst
// (dst != src). Omniglot's rotation classes are applied this way when an episode is materialized.
void rotate_square(const float* src, int64_t channels, int64_t size, int degrees, float* dst);

}  // namespace fewshot::data

#pragma once
// Tensor shapes: up to kMaxDims dimensions stored inline (no heap), row-major, always contiguous.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace fewshot {

constexpr int kMaxDims = 5;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int dim() const { return ndim_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  // Negative i counts from the end, as in Python.
  int64_t size(int i) const { return dims_[normalize_dim(i)]; }
  int normalize_dim(int i) const;
  int64_t numel() const;
  std::vector<int64_t> vec() const { return {dims_.begin(), dims_.begin() + ndim_}; }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + ndim_; }

  void push_back(int64_t d);
  Shape with(int i, int64_t d) const { Shape s = *this; s[normalize_dim(i)] = d; return s; }
  // Product of dims in [from, to).
  int64_t prod(int from, int to) const;

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "(2, 3, 4)"

 private:
  std::array<int64_t, kMaxDims> dims_{};
  int ndim_ = 0;
};

// Shape of a broadcast between a and b (NumPy rules); throws ShapeError naming op and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace fewshot

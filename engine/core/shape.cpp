#include "engine/core/shape.h"

#include "engine/core/error.h"

namespace fewshot {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::vector<int64_t>(dims)) {}

Shape::Shape(const std::vector<int64_t>& dims) {
  check<ShapeError>(dims.size() <= kMaxDims, "shape with {} dimensions: at most {} are supported", dims.size(), kMaxDims);
  for (int64_t d : dims) push_back(d);
}

void Shape::push_back(int64_t d) {
  check<ShapeError>(ndim_ < kMaxDims, "shape {} cannot grow past {} dimensions", str(), kMaxDims);
  check<ShapeError>(d >= 0, "negative dimension {} in shape", d);
  dims_[ndim_++] = d;
}

int Shape::normalize_dim(int i) const {
  int j = i < 0 ? i + ndim_ : i;
  check<ValueError>(j >= 0 && j < ndim_, "dimension {} out of range for shape {} ({} dims)", i, str(), ndim_);
  return j;
}

int64_t Shape::numel() const { return prod(0, ndim_); }

int64_t Shape::prod(int from, int to) const {
  int64_t n = 1;
  for (int i = from; i < to; ++i) n *= dims_[i];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (ndim_ != o.ndim_) return false;
  for (int i = 0; i < ndim_; ++i)
    if (dims_[i] != o.dims_[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < ndim_; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  if (ndim_ == 1) s += ",";
  return s + ")";
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  int n = std::max(a.dim(), b.dim());
  std::vector<int64_t> out(n);
  for (int i = 0; i < n; ++i) {
    int ia = a.dim() - n + i, ib = b.dim() - n + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    check<ShapeError>(da == db || da == 1 || db == 1, "{}: shapes {} and {} cannot be broadcast (dimension {}: {} vs {})",
                      op, a.str(), b.str(), i, da, db);
    out[i] = da == 1 ? db : da;
  }
  return Shape(out);
}

}  // namespace fewshot

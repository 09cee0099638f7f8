#pragma once
// Typed errors. Every message names the op and the offending shapes/dtypes/devices/numbers, so a
// user can fix the call without a debugger. Nothing in the engine is undefined behaviour on bad input.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace fewshot {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ShapeError : Error { using Error::Error; };     // incompatible or invalid shapes
struct DTypeError : Error { using Error::Error; };     // wrong or mixed element types
struct DeviceError : Error { using Error::Error; };    // mixed devices, missing backend
struct ValueError : Error { using Error::Error; };     // bad argument values (dims, indices, sizes)
struct AutogradError : Error { using Error::Error; };  // asking for gradients that do not exist

template <typename E = ValueError, typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw E(fmt::format(f, std::forward<Args>(args)...));
}

template <typename E = ValueError, typename... Args>
void check(bool ok, fmt::format_string<Args...> f, Args&&... args) {
  if (!ok) throw E(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace fewshot

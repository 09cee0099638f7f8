#pragma once
// What f() throws, as text ("" when it throws nothing): the CUDA tests check that errors name the
// op and the CUDA error.
#include <exception>
#include <string>

namespace fewshot::testing {

template <typename F> std::string message_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace fewshot::testing

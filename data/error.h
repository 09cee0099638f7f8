#pragma once
// The one exception type of fewshot::data. Every message names the problem and the numbers
// involved (which file, expected vs found bytes, how to fetch a missing dataset), so a user can act
// on it without reading the source.
#include <stdexcept>
#include <string>

namespace fewshot::data {

class DataError : public std::runtime_error {
 public:
  explicit DataError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace fewshot::data

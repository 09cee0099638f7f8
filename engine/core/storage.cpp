#include "engine/core/storage.h"

#include "engine/core/error.h"

namespace fewshot {

Storage::Storage(size_t nbytes, Device device, Allocator* allocator)
    : nbytes_(nbytes), device_(device), allocator_(allocator) {
  data_ = nbytes ? allocator_->allocate(nbytes) : nullptr;
}

Storage::~Storage() {
  if (data_) allocator_->deallocate(data_, nbytes_);
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    try {
      size_t used = 0;
      int index = std::stoi(text.substr(5), &used);
      if (used == text.size() - 5 && index >= 0) return Device::cuda(index);
    } catch (const std::exception&) {
    }
  }
  fail<ValueError>("unknown device '{}': expected cpu, cuda or cuda:N", text);
}

}  // namespace fewshot

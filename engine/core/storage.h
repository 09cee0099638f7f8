#pragma once
// Reference-counted memory shared by a tensor and its views. The allocator interface is what a
// backend provides (CPU: aligned heap; CUDA: a caching device allocator), so op code never allocates.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/core/device.h"

namespace fewshot {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* ptr, size_t bytes) = 0;
};

class Storage {
 public:
  Storage(size_t nbytes, Device device, Allocator* allocator);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // Bumped by every in-place write, so autograd can tell when a tensor it saved was overwritten.
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  Allocator* allocator_ = nullptr;
  std::atomic<uint64_t> version_{0};
};

}  // namespace fewshot

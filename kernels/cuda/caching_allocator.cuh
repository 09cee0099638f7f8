#pragma once
// A caching device allocator (the idea of PyTorch's CUDACachingAllocator, much simplified):
// freed blocks go to a free list keyed by (stream, rounded size) and are handed out again, so the
// steady state of a training loop makes no cudaMalloc/cudaFree calls at all.
// Stream safety: a block is reused only on the stream it was allocated on (stream order then
// guarantees the earlier kernels are done with it). A tensor used on another stream must be
// synchronized by the caller before it is freed.
// FEWSHOT_CUDA_NO_CACHE=1 turns caching off (like PYTORCH_NO_CUDA_MEMORY_CACHING): every tensor
// gets its own cudaMalloc of exactly its size and is cudaFree'd when released, so that
// compute-sanitizer (and the CUDA emulator under AddressSanitizer) see an access one element past
// a tensor's end. Slow; for checking only.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <cuda_runtime.h>

#include "engine/core/storage.h"

namespace fewshot::cuda {

struct AllocatorStats {
  int64_t cuda_mallocs = 0;     // calls to cudaMalloc so far
  int64_t reuses = 0;           // allocations served from the cache
  int64_t bytes_in_use = 0;     // handed out and not yet freed (rounded sizes)
  int64_t bytes_cached = 0;     // held in free lists
};

class CachingAllocator final : public Allocator {
 public:
  // stream_of_caller() says which stream the calling thread is using (the backend's current stream).
  CachingAllocator(int device, cudaStream_t (*stream_of_caller)(int device));
  ~CachingAllocator() override;

  void* allocate(size_t bytes) override;
  void deallocate(void* ptr, size_t bytes) override;
  void empty_cache();  // cudaFree every cached (free) block
  AllocatorStats stats() const;
  static size_t round_size(size_t bytes);
  static bool caching_disabled();  // FEWSHOT_CUDA_NO_CACHE is set and not "0"

 private:
  struct Key {
    cudaStream_t stream;
    size_t size;
    bool operator==(const Key& o) const { return stream == o.stream && size == o.size; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<void*>()(k.stream) ^ (k.size * 0x9E3779B97F4A7C15ull); }
  };
  struct Block {
    cudaStream_t stream;
    size_t size;
  };
  void free_cached_locked();

  int device_;
  cudaStream_t (*stream_of_caller_)(int);
  mutable std::mutex mutex_;
  std::unordered_map<Key, std::vector<void*>, KeyHash> free_;
  std::unordered_map<void*, Block> live_;
  AllocatorStats stats_;
};

}  // namespace fewshot::cuda

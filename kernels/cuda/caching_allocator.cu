#include "kernels/cuda/caching_allocator.cuh"

#include "kernels/cuda/common.cuh"

namespace fewshot::cuda {

namespace {

// Makes `device` current for the scope (allocations belong to the backend's device, whatever the
// calling thread had selected) and restores the previous one.
struct DeviceScope {
  int previous = -1;
  explicit DeviceScope(int device) {
    FEWSHOT_CUDA_CHECK("allocator", cudaGetDevice(&previous));
    if (previous != device) FEWSHOT_CUDA_CHECK("allocator", cudaSetDevice(device));
  }
  ~DeviceScope() {
    int now = -1;
    if (cudaGetDevice(&now) == cudaSuccess && now != previous) cudaSetDevice(previous);
  }
};

}  // namespace

CachingAllocator::CachingAllocator(int device, cudaStream_t (*stream_of_caller)(int))
    : device_(device), stream_of_caller_(stream_of_caller) {}

CachingAllocator::~CachingAllocator() {
  // Best effort: at process exit the runtime may already be gone, and the driver frees
  // everything anyway, so errors here are ignored.
  std::lock_guard lock(mutex_);
  for (auto& [key, ptrs] : free_)
    for (void* p : ptrs) cudaFree(p);
  free_.clear();
}

// Small blocks round to 512 bytes (256-byte alignment for float4 loads comes from cudaMalloc);
// blocks above 1 MiB round to 1 MiB, above 64 MiB to 8 MiB, so a few size classes serve
// tensors whose sizes drift a little between episodes.
size_t CachingAllocator::round_size(size_t bytes) {
  auto up = [](size_t n, size_t q) { return (n + q - 1) / q * q; };
  if (bytes <= (1u << 20)) return up(bytes ? bytes : 1, 512);
  if (bytes <= (64u << 20)) return up(bytes, 1u << 20);
  return up(bytes, 8u << 20);
}

bool CachingAllocator::caching_disabled() {
  static const bool off = env_flag("FEWSHOT_CUDA_NO_CACHE");
  return off;
}

void* CachingAllocator::allocate(size_t bytes) {
  const bool exact = caching_disabled();
  size_t size = exact ? (bytes ? bytes : 1) : round_size(bytes);
  cudaStream_t stream = stream_of_caller_(device_);
  if (!exact) {
    std::lock_guard lock(mutex_);
    auto it = free_.find(Key{stream, size});
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      live_[p] = Block{stream, size};
      stats_.reuses++;
      stats_.bytes_cached -= static_cast<int64_t>(size);
      stats_.bytes_in_use += static_cast<int64_t>(size);
      return p;
    }
  }
  DeviceScope scope(device_);
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, size);
  if (err == cudaErrorMemoryAllocation) {
    // Out of memory: give the cached blocks back to the driver and try once more.
    cudaGetLastError();  // clear the recorded error before retrying
    std::lock_guard lock(mutex_);
    FEWSHOT_CUDA_CHECK("allocator: synchronize before freeing the cache", cudaDeviceSynchronize());
    free_cached_locked();
    err = cudaMalloc(&p, size);
  }
  if (err != cudaSuccess) {
    cudaGetLastError();  // consumed here, so the next launch check does not report it again
    FEWSHOT_CUDA_CHECK("allocator: cudaMalloc", err);
  }
  std::lock_guard lock(mutex_);
  live_[p] = Block{stream, size};
  stats_.cuda_mallocs++;
  stats_.bytes_in_use += static_cast<int64_t>(size);
  return p;
}

void CachingAllocator::deallocate(void* ptr, size_t) {
  if (!ptr) return;
  std::lock_guard lock(mutex_);
  auto it = live_.find(ptr);
  if (it == live_.end()) return;  // not ours: nothing sane to do in a destructor path
  Block b = it->second;
  live_.erase(it);
  stats_.bytes_in_use -= static_cast<int64_t>(b.size);
  if (caching_disabled()) {
    // cudaFree waits for the device, so kernels still using the block finish first. Errors
    // cannot be thrown from here (a destructor path); the next checked call reports them.
    cudaFree(ptr);
    return;
  }
  free_[Key{b.stream, b.size}].push_back(ptr);
  stats_.bytes_cached += static_cast<int64_t>(b.size);
}

void CachingAllocator::free_cached_locked() {
  for (auto& [key, ptrs] : free_)
    for (void* p : ptrs) {
      FEWSHOT_CUDA_CHECK("allocator: cudaFree", cudaFree(p));
      stats_.bytes_cached -= static_cast<int64_t>(key.size);
    }
  free_.clear();
}

void CachingAllocator::empty_cache() {
  DeviceScope scope(device_);
  std::lock_guard lock(mutex_);
  // Blocks in the cache may still be read by queued kernels of their stream.
  FEWSHOT_CUDA_CHECK("allocator: synchronize before freeing the cache", cudaDeviceSynchronize());
  free_cached_locked();
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace fewshot::cuda

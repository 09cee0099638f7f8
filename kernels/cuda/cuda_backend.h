#pragma once
// Public face of the CUDA backend (host code, no CUDA headers needed). The engine's registry
// (engine/core/backend_registry.cpp) calls make_cuda_backend / cuda_device_count directly when
// the build has CUDA (FEWSHOT_WITH_CUDA), so no static-initialization registration can be lost.
#include <cstdint>
#include <string>

namespace fewshot {

class Backend;

Backend* make_cuda_backend(int index);
// Number of usable CUDA devices; 0 when there is no driver or no GPU (never throws).
int cuda_device_count();
// Why cuda_device_count() is 0 (e.g. "cudaErrorNoDevice: no CUDA-capable device is detected"),
// empty when devices exist.
std::string cuda_unavailable_reason();

namespace cuda {

// Streams: every kernel of device `device` launched from this thread goes to the thread's
// current stream, which is the backend's own per-device stream unless set. Two threads training
// side by side each set their own stream. Handles are cudaStream_t passed as void*.
void* current_stream(int device);
void set_current_stream(int device, void* stream);  // nullptr restores the backend's default

// Sets the current stream for the scope and restores the previous one.
class StreamGuard {
 public:
  StreamGuard(int device, void* stream) : device_(device), previous_(current_stream(device)) {
    set_current_stream(device, stream);
  }
  ~StreamGuard() { set_current_stream(device_, previous_); }
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  int device_;
  void* previous_;
};

// Waits for all work queued on this thread's current stream of `device`.
void synchronize(int device);

struct CacheStats {
  int64_t cuda_mallocs, reuses, bytes_in_use, bytes_cached;
};
CacheStats allocator_stats(int device);
void empty_cache(int device);  // returns cached (free) blocks to the driver

}  // namespace cuda
}  // namespace fewshot

// The CUDA emulator: runs kernels/cuda's kernels on the CPU (see include/cuda_runtime.h for why).
//
// Execution model. A launch runs its blocks one after another under a process-wide lock. Each
// thread of a block is a fiber (Boost.Context) on the calling CPU thread, with its own small
// stack. The scheduler resumes the block's ready threads in turn; a thread runs until it calls
// __syncthreads() or returns. When every thread of the block waits at the barrier they are all
// released; when some have returned while others wait, that is a divergent __syncthreads (a
// deadlock or undefined behaviour on a GPU) and the launch fails naming the block. Successive
// barrier phases run the threads in alternating order (0..n-1, then n-1..0), so a missing
// barrier between a shared-memory write and another thread's read shows up as a wrong result.
//
// Memory. Device memory is host memory from an allocator with a capacity (16 GiB unless
// FEWSHOT_CUDA_EMULATOR_MEMORY_GB says otherwise, so out-of-memory paths are testable); copies
// and memsets check that the "device" side of the transfer lies inside one live allocation,
// which catches host/device pointer mix-ups and transfers past the end of a buffer.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/context/fiber.hpp>
#include <boost/context/stack_context.hpp>
#include <fmt/format.h>

#include <cuda_runtime.h>

uint3 threadIdx{0, 0, 0}, blockIdx{0, 0, 0};
dim3 blockDim{1, 1, 1}, gridDim{1, 1, 1};

namespace fewshot::cuda_emulator {
namespace {

namespace ctx = boost::context;

// Limits of a compute capability 9.0 GPU, so a launch that would fail there fails here.
constexpr unsigned kMaxThreadsPerBlock = 1024, kMaxBlockZ = 64, kMaxGridYZ = 65535;
constexpr size_t kDynamicSmemDefaultLimit = 48 * 1024;
constexpr size_t kStackBytes = 64 * 1024;  // per emulated thread; a guard page below each

// ---- Fiber stacks: preallocated, guarded, reused (allocating per thread would dominate). ----
class StackPool {
 public:
  ctx::stack_context allocate() {
    if (free_.empty()) grow();
    char* base = free_.back();
    free_.pop_back();
    ctx::stack_context sc;
    sc.size = kStackBytes;
    sc.sp = base + page_ + kStackBytes;  // stacks grow down from sp; the guard page is at base
    return sc;
  }
  void deallocate(ctx::stack_context& sc) {
    free_.push_back(static_cast<char*>(sc.sp) - kStackBytes - page_);
  }

 private:
  void grow() {
    constexpr int kChunk = 256;
    const size_t one = page_ + kStackBytes;
    void* mem = mmap(nullptr, one * kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) throw std::bad_alloc();
    for (int i = 0; i < kChunk; ++i) {
      char* base = static_cast<char*>(mem) + i * one;
      mprotect(base, page_, PROT_NONE);  // a stack overflow faults instead of corrupting a neighbour
      free_.push_back(base);
    }
  }
  size_t page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<char*> free_;
};

struct StackHandle {  // what Boost.Context copies into each fiber
  StackPool* pool;
  ctx::stack_context allocate() { return pool->allocate(); }
  void deallocate(ctx::stack_context& sc) { pool->deallocate(sc); }
};

// ---- One block's threads and the scheduler ----------------------------------------------
enum class State : unsigned char { Ready, AtBarrier, Done };

struct Block {
  std::vector<ctx::fiber> threads;  // each thread's suspended continuation
  std::vector<ctx::fiber> sinks;    // each thread's way back to the scheduler
  std::vector<State> state;
  int current = -1;
  std::string fault;  // first exception thrown by a thread
};

std::mutex g_launch_mutex;  // one block runs at a time in the whole process
Block* g_block = nullptr;
StackPool g_stacks;
Counters g_counters;
thread_local cudaError_t t_last_error = cudaSuccess;  // per host thread, as in CUDA
thread_local std::string t_last_fault;

uint3 thread_index(int i, const dim3& block) {
  unsigned u = static_cast<unsigned>(i);
  return {u % block.x, (u / block.x) % block.y, u / (block.x * block.y)};
}

// Runs one block to completion. Returns "" or what went wrong.
std::string run_block(Block& b, const dim3& block, const std::function<void()>& body) {
  const int n = static_cast<int>(block.x * block.y * block.z);
  b.threads.clear();
  b.sinks.clear();
  b.sinks.resize(n);
  b.state.assign(n, State::Ready);
  b.fault.clear();
  for (int i = 0; i < n; ++i) {
    b.threads.emplace_back(std::allocator_arg, StackHandle{&g_stacks}, [&b, i, &body](ctx::fiber&& sink) {
      b.sinks[i] = std::move(sink);
      try {
        body();
      } catch (const std::exception& e) {
        if (b.fault.empty()) b.fault = fmt::format("thread threw: {}", e.what());
      }
      b.state[i] = State::Done;
      return std::move(b.sinks[i]);
    });
  }
  std::string divergence;
  bool reverse = false;
  for (;;) {
    for (int k = 0; k < n; ++k) {
      const int i = reverse ? n - 1 - k : k;
      if (b.state[i] != State::Ready) continue;
      b.current = i;
      threadIdx = thread_index(i, block);
      b.threads[i] = std::move(b.threads[i]).resume();
      b.current = -1;
    }
    const auto waiting = std::count(b.state.begin(), b.state.end(), State::AtBarrier);
    if (waiting == 0) break;
    if (waiting != n && divergence.empty())
      divergence = fmt::format("divergent __syncthreads(): {} thread(s) returned while {} wait at the barrier",
                               n - waiting, waiting);
    // Open the barrier. After a divergent barrier (undefined on a GPU) or a thread's exception the
    // waiting threads are let through as well, so that every fiber ends normally: destroying a
    // suspended fiber would unwind it with an exception thrown on its stack.
    for (auto& st : b.state)
      if (st == State::AtBarrier) st = State::Ready;
    ++g_counters.barriers;
    reverse = !reverse;
  }
  return !b.fault.empty() ? b.fault : divergence;
}

std::string describe(const dim3& d) { return fmt::format("({}, {}, {})", d.x, d.y, d.z); }

// ---- Device memory ----------------------------------------------------------------------
struct Memory {
  std::mutex mutex;
  std::map<uintptr_t, size_t> live;  // base -> bytes
  size_t in_use = 0;
  size_t capacity = [] {
    const char* gb = std::getenv("FEWSHOT_CUDA_EMULATOR_MEMORY_GB");
    double g = gb ? std::atof(gb) : 16.0;
    return static_cast<size_t>((g > 0 ? g : 16.0) * (1ull << 30));
  }();

  // True when [p, p + bytes) lies inside one live allocation.
  bool contains(const void* p, size_t bytes) {
    std::lock_guard lock(mutex);
    auto a = reinterpret_cast<uintptr_t>(p);
    auto it = live.upper_bound(a);
    if (it == live.begin()) return false;
    --it;
    return a >= it->first && a + bytes <= it->first + it->second;
  }
};
// Never destroyed: the CUDA backend frees its cache from an atexit handler, which may run after
// static destructors registered later.
Memory& memory() {
  static Memory& m = *new Memory;
  return m;
}

struct Streams {
  std::mutex mutex;
  std::set<cudaStream_t> live;  // created and not destroyed
};
Streams& streams() {
  static Streams& s = *new Streams;
  return s;
}

bool valid_stream(cudaStream_t s) {
  if (s == nullptr) return true;  // the legacy default stream
  std::lock_guard lock(streams().mutex);
  return streams().live.count(s) > 0;
}

thread_local int t_device = 0;

int device_count() {
  static const int n = [] {
    const char* v = std::getenv("FEWSHOT_CUDA_EMULATOR_DEVICES");
    return v ? std::max(0, std::atoi(v)) : 1;
  }();
  return n;
}

cudaError_t record(cudaError_t err) {
  if (err != cudaSuccess) t_last_error = err;
  return err;
}

// Checks the device side(s) of a transfer. Host memory is anything that is not a live device
// allocation, so only the device side can be checked.
cudaError_t check_transfer(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  auto& m = memory();
  switch (kind) {
    case cudaMemcpyHostToDevice: return m.contains(dst, bytes) ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyDeviceToHost: return m.contains(src, bytes) ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyDeviceToDevice:
      return m.contains(dst, bytes) && m.contains(src, bytes) ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyHostToHost:
    case cudaMemcpyDefault: return cudaSuccess;
  }
  return cudaErrorInvalidMemcpyDirection;
}

}  // namespace

void syncthreads() {
  Block* b = g_block;
  if (b == nullptr || b->current < 0) {
    std::fprintf(stderr, "cuda emulator: __syncthreads() called outside a kernel\n");
    std::abort();
  }
  const int i = b->current;
  b->state[i] = State::AtBarrier;
  b->sinks[i] = std::move(b->sinks[i]).resume();  // back to the scheduler until the barrier opens
}

void launch(dim3 grid, dim3 block, size_t dynamic_smem, cudaStream_t stream, const std::function<void()>& thread_body) {
  t_last_fault.clear();
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || threads == 0 || threads > kMaxThreadsPerBlock ||
      block.z > kMaxBlockZ || grid.y > kMaxGridYZ || grid.z > kMaxGridYZ) {
    t_last_fault = fmt::format("invalid launch configuration: grid {}, block {}", describe(grid), describe(block));
    record(cudaErrorInvalidConfiguration);
    return;
  }
  if (dynamic_smem > kDynamicSmemDefaultLimit || !valid_stream(stream)) {
    t_last_fault = "invalid launch argument (dynamic shared memory or stream)";
    record(cudaErrorInvalidValue);
    return;
  }
  std::lock_guard lock(g_launch_mutex);
  Block b;
  g_block = &b;
  gridDim = grid;
  blockDim = block;
  ++g_counters.launches;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        blockIdx = {x, y, z};
        std::string fault = run_block(b, block, thread_body);
        ++g_counters.blocks;
        g_counters.threads += static_cast<int64_t>(threads);
        if (!fault.empty()) {
          t_last_fault = fmt::format("block {} of grid {}: {}", describe(dim3(x, y, z)), describe(grid), fault);
          g_block = nullptr;
          record(cudaErrorLaunchFailure);
          return;
        }
      }
  g_block = nullptr;
}

Counters counters() {
  std::lock_guard lock(g_launch_mutex);
  return g_counters;
}

}  // namespace fewshot::cuda_emulator

using namespace fewshot::cuda_emulator;

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

// Launch errors carry the emulator's finding (which block, what went wrong) in their text.
static const char* launch_error_text(const char* what) {
  thread_local std::string text;
  text = t_last_fault.empty() ? what : fmt::format("{}; emulator: {}", what, t_last_fault);
  return text.c_str();
}

const char* cudaGetErrorString(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return launch_error_text("invalid configuration argument");
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure: return launch_error_text("unspecified launch failure");
  }
  return "unknown error";
}

cudaError_t cudaGetLastError() { return std::exchange(t_last_error, cudaSuccess); }
cudaError_t cudaPeekAtLastError() { return t_last_error; }

cudaError_t cudaGetDeviceCount(int* count) {
  *count = device_count();
  return device_count() > 0 ? cudaSuccess : record(cudaErrorNoDevice);
}
cudaError_t cudaGetDevice(int* device) {
  *device = t_device;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= device_count()) return record(cudaErrorInvalidDevice);
  t_device = device;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device < 0 || device >= device_count()) return record(cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "fewshot CUDA emulator (CPU)");
  prop->totalGlobalMem = memory().capacity;
  prop->sharedMemPerBlock = kDynamicSmemDefaultLimit;
  prop->maxThreadsPerBlock = static_cast<int>(kMaxThreadsPerBlock);
  prop->multiProcessorCount = 1;
  prop->major = 9;
  prop->minor = 0;
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }  // launches finish before they return

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  *ptr = nullptr;
  auto& m = memory();
  std::lock_guard lock(m.mutex);
  if (bytes > m.capacity - m.in_use) return record(cudaErrorMemoryAllocation);
  // Exactly `bytes` (256-byte aligned, as cudaMalloc is), so that under AddressSanitizer a kernel
  // reading past the end of an allocation is reported.
  void* p = nullptr;
  if (posix_memalign(&p, 256, std::max<size_t>(bytes, 1)) != 0) return record(cudaErrorMemoryAllocation);
  // NaN bytes (float and double NaN, int64 -1), as fresh device memory holds garbage: a kernel that
  // reads memory nothing wrote turns results into NaN, which the parity tests catch (initcheck-like
  // under FEWSHOT_CUDA_NO_CACHE=1, where every tensor is a fresh allocation).
  std::memset(p, 0xFF, bytes);
  m.live[reinterpret_cast<uintptr_t>(p)] = bytes;
  m.in_use += bytes;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (ptr == nullptr) return cudaSuccess;
  auto& m = memory();
  std::lock_guard lock(m.mutex);
  auto it = m.live.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == m.live.end()) return record(cudaErrorInvalidValue);
  m.in_use -= it->second;
  m.live.erase(it);
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  if (!valid_stream(stream)) return record(cudaErrorInvalidResourceHandle);
  if (cudaError_t err = check_transfer(dst, src, bytes, kind); err != cudaSuccess) return record(err);
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemset(void* dst, int value, size_t bytes) { return cudaMemsetAsync(dst, value, bytes, nullptr); }
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream) {
  if (!valid_stream(stream)) return record(cudaErrorInvalidResourceHandle);
  if (bytes && !memory().contains(dst, bytes)) return record(cudaErrorInvalidValue);
  if (bytes) std::memset(dst, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  // A stream is only a handle here: every launch has finished when it returns.
  static std::atomic<uintptr_t> next{0x1000};
  *stream = reinterpret_cast<cudaStream_t>(next.fetch_add(0x10));
  std::lock_guard lock(streams().mutex);
  streams().live.insert(*stream);
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  std::lock_guard lock(streams().mutex);
  return streams().live.erase(stream) ? cudaSuccess : record(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  return valid_stream(stream) ? cudaSuccess : record(cudaErrorInvalidResourceHandle);
}

#include <array>
#include <map>
#include <memory>
#include <mutex>

#include "engine/core/backend.h"
#include "engine/core/error.h"

namespace fewshot {

Backend* make_cpu_backend();  // engine/core/backend_cpu.cpp

#ifdef FEWSHOT_WITH_CUDA
// kernels/cuda/backend_cuda.cpp (also declared in kernels/cuda/cuda_backend.h). Called directly,
// not through a static registration object, so the linker cannot drop the CUDA backend.
Backend* make_cuda_backend(int index);
int cuda_device_count();
std::string cuda_unavailable_reason();
#endif

namespace {

struct Registration {
  Backend* (*factory)(int) = nullptr;
  int (*count)() = nullptr;
};

struct Registry {
  std::mutex mutex;
  std::array<Registration, 2> kinds{};
  std::map<std::pair<int, int>, Backend*> backends;
};

Registry& registry() {
  static Registry r;
#ifdef FEWSHOT_WITH_CUDA
  static const bool cuda_wired = [] {
    r.kinds[static_cast<int>(DeviceType::CUDA)] = {&make_cuda_backend, &cuda_device_count};
    return true;
  }();
  (void)cuda_wired;
#endif
  return r;
}

// Why a CUDA device index is unusable, with the fix.
std::string no_device_message(const Device& device, int n) {
  if (n == 0) {
    std::string why;
#ifdef FEWSHOT_WITH_CUDA
    why = cuda_unavailable_reason();
#endif
    return fmt::format("device {} is not available: no CUDA device found{}; use --device cpu", device.str(),
                       why.empty() ? "" : " (" + why + ")");
  }
  return fmt::format("device {} is not available: {} CUDA device(s) found (valid: cuda:0 .. cuda:{})", device.str(),
                     n, n - 1);
}

}  // namespace

void register_backend(DeviceType type, Backend* (*factory)(int), int (*count)()) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.kinds[static_cast<int>(type)] = {factory, count};
}

int device_count(DeviceType type) {
  if (type == DeviceType::CPU) return 1;
  auto& r = registry();
  Registration reg;
  {
    std::lock_guard lock(r.mutex);
    reg = r.kinds[static_cast<int>(type)];
  }
  return reg.count ? reg.count() : 0;
}

Backend& backend_for(Device device) {
  if (device.is_cpu()) {
    static Backend* cpu = make_cpu_backend();
    return *cpu;
  }
  auto& r = registry();
  Registration reg;
  {
    std::lock_guard lock(r.mutex);
    auto it = r.backends.find({static_cast<int>(device.type), device.index});
    if (it != r.backends.end()) return *it->second;
    reg = r.kinds[static_cast<int>(device.type)];
  }
  check<DeviceError>(reg.factory != nullptr,
                     "device {} is not available: this build of fewshot has no CUDA backend (use --device cpu)",
                     device.str());
  int n = reg.count();
  if (device.index < 0 || device.index >= n) throw DeviceError(no_device_message(device, n));
  Backend* b = reg.factory(device.index);
  std::lock_guard lock(r.mutex);
  auto [it, inserted] = r.backends.emplace(std::make_pair(static_cast<int>(device.type), device.index), b);
  return *it->second;
}

}  // namespace fewshot

#include <array>
#include <map>
#include <memory>
#include <mutex>

#include "engine/core/backend.h"
#include "engine/core/error.h"

namespace fewshot {

Backend* make_cpu_backend();  // engine/core/backend_cpu.cpp

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
  return r;
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
  check<DeviceError>(device.index < n, "device {} is not available: {} CUDA device(s) found{}", device.str(), n,
                     n == 0 ? " (use --device cpu)" : "");
  Backend* b = reg.factory(device.index);
  std::lock_guard lock(r.mutex);
  auto [it, inserted] = r.backends.emplace(std::make_pair(static_cast<int>(device.type), device.index), b);
  return *it->second;
}

}  // namespace fewshot

#pragma once
// Times work on a device. GPU kernels run asynchronously: a plain clock read right after launching
// them measures only the launches, and the kernels' time lands in whatever next waits for the
// device (on the accuracy read-out, untimed). So both ends of a timed region first wait for the
// work the calling thread has queued on the device (Backend::synchronize: a no-op on the CPU).
#include <chrono>

#include "engine/core/backend.h"
#include "engine/core/device.h"

namespace fewshot::models {

class DeviceTimer {
 public:
  explicit DeviceTimer(Device device) : backend_(backend_for(device)) { restart(); }
  void restart() {
    backend_.synchronize();
    t0_ = std::chrono::steady_clock::now();
  }
  // Seconds since construction or restart(), once the device has finished.
  double seconds() const {
    backend_.synchronize();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  Backend& backend_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace fewshot::models

#pragma once
// What machine and build produced a set of results (recorded in results.json).
#include <string>

#include "engine/core/device.h"

namespace fewshot {

struct EnvironmentInfo {
  std::string cpu, gpu;  // gpu empty when none is used
  int cores = 0, threads = 0;
  std::string build_type, git_revision, compiler, date;
};

EnvironmentInfo read_environment(Device device, int threads);

}  // namespace fewshot

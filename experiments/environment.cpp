#include "experiments/environment.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>

#include "data/dataset.h"
#include "engine/core/backend.h"

#ifndef FEWSHOT_BUILD_TYPE
#define FEWSHOT_BUILD_TYPE "unknown"
#endif

namespace fewshot {

namespace {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

std::string git_revision() {
  std::string cmd = "git -C '" + data::repo_dir().string() + "' rev-parse --short HEAD 2>/dev/null";
  std::array<char, 64> buf{};
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    while (fgets(buf.data(), buf.size(), p)) out += buf.data();
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.empty() ? "unknown" : out;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf.data();
}

}  // namespace

EnvironmentInfo read_environment(Device device, int threads) {
  EnvironmentInfo e;
  e.cpu = cpu_model();
  e.cores = static_cast<int>(std::thread::hardware_concurrency());
  e.threads = threads;
  if (device.is_cuda()) e.gpu = backend_for(device).name();
  e.build_type = FEWSHOT_BUILD_TYPE;
  e.git_revision = git_revision();
  e.compiler = std::string("g++ ") + __VERSION__;
  e.date = utc_now();
  return e;
}

}  // namespace fewshot

// The learner tests run tiny tensors, where OpenMP fork/join costs more than it saves, and on a
// shared 2-core machine spinning threads slow everything down (measured: Reptile's test 1.8 s on
// one thread, 20 s on two under load). One thread for the whole test binary.
#include <omp.h>

namespace {
struct OneThread {
  OneThread() { omp_set_num_threads(1); }
} one_thread;
}  // namespace

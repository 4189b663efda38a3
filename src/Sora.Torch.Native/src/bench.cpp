// In-shim baselines for `sora bench binding`.
#include <chrono>

#include "internal.h"
#include "sora/bench.h"

SORA_API int32_t sora_bench_gemm(int64_t n, int32_t iterations, double* seconds) {
  SORA_STATUS({
    at::NoGradGuard no_grad;
    auto a = at::randn({n, n});
    auto b = at::randn({n, n});
    auto out = at::empty({n, n});
    at::mm_out(out, a, b);
    const auto start = std::chrono::steady_clock::now();
    for (int32_t i = 0; i < iterations; ++i) at::mm_out(out, a, b);
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  })
}

SORA_API int32_t sora_bench_small_op(int32_t iterations, double* seconds) {
  SORA_STATUS({
    at::NoGradGuard no_grad;
    auto a = at::ones({1});
    auto b = at::ones({1});
    const auto start = std::chrono::steady_clock::now();
    for (int32_t i = 0; i < iterations; ++i) {
      auto c = at::add(a, b);
      (void)c;
    }
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  })
}

/* Reference measurements taken entirely inside the shim, as baselines for the binding. */
#ifndef SORA_BENCH_H
#define SORA_BENCH_H

#include "sora/common.h"

/* Seconds for `iterations` fp32 n x n x n matrix products into a preallocated output,
 * after one warm-up product. */
SORA_API int32_t sora_bench_gemm(int64_t n, int32_t iterations, double* seconds);
/* Seconds for `iterations` additions of two one-element tensors (a new result each time). */
SORA_API int32_t sora_bench_small_op(int32_t iterations, double* seconds);

#endif

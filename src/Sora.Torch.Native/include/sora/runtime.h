/* Process-wide runtime: random generators, threads, BLAS identity, versions, devices. */
#ifndef SORA_RUNTIME_H
#define SORA_RUNTIME_H

#include "sora/common.h"

SORA_API int32_t sora_manual_seed(uint64_t seed);
/* Default generator of a device (0 cpu, 1 cuda). Writes up to capacity bytes of its state;
 * returns the state's full size in bytes or -1. */
SORA_API int64_t sora_generator_get_state(int32_t device_type, int32_t device_index, uint8_t* buf, int64_t capacity);
SORA_API int32_t sora_generator_set_state(int32_t device_type, int32_t device_index, const uint8_t* state, int64_t size);

SORA_API int32_t sora_set_num_threads(int32_t n);
SORA_API int32_t sora_get_num_threads(void);
SORA_API int32_t sora_set_num_interop_threads(int32_t n);
SORA_API int32_t sora_get_num_interop_threads(void);

/* Sets OpenBLAS's own thread pool size (at::set_num_threads does not reach it); returns -1
 * with an error when the loaded BLAS is not OpenBLAS. */
SORA_API int32_t sora_set_blas_threads(int32_t n);
SORA_API int32_t sora_get_blas_threads(void);
/* Path of the shared library that provides sgemm_ (the BLAS libtorch's matrix products call). */
SORA_API int32_t sora_blas_library(char* buf, int32_t capacity);
/* OpenBLAS's own configuration string, or empty when the loaded BLAS is not OpenBLAS. */
SORA_API int32_t sora_blas_config(char* buf, int32_t capacity);
SORA_API int32_t sora_torch_version(char* buf, int32_t capacity);
/* at::get_parallel_info(): threads, OpenMP, MKL, etc. */
SORA_API int32_t sora_parallel_info(char* buf, int32_t capacity);

/* 1 when the shim was compiled against a CUDA libtorch. */
SORA_API int32_t sora_built_with_cuda(void);
SORA_API int32_t sora_cuda_device_count(void);
SORA_API int32_t sora_cuda_synchronize(int32_t device_index);
/* Makes device_index the calling process's current CUDA device (what new streams and NCCL's barrier use). */
SORA_API int32_t sora_cuda_set_device(int32_t device_index);
/* The CUDA caching allocator's bytes on a device, summed over its pools: allocated to tensors now, reserved from
 * the driver now (allocated plus cached), and the most ever allocated at once. */
SORA_API int32_t sora_cuda_memory(int32_t device_index, int64_t* allocated, int64_t* reserved, int64_t* peak_allocated);

/* libtorch's operator profiler (the legacy autograd profiler): records every ATen op of every thread
 * from start until stop and then writes a Chrome trace (JSON) to the path given at start. One at a time. */
SORA_API int32_t sora_profiler_start(const char* path);
SORA_API int32_t sora_profiler_stop(void);

#endif

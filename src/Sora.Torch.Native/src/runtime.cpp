// Random generators, thread pools, BLAS identity and build facts.
#include <dlfcn.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include "internal.h"
#include "sora/runtime.h"

#ifdef SORA_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace {
int32_t write_string(const std::string& text, char* buf, int32_t capacity) {
  const auto length = static_cast<int32_t>(text.size());
  if (buf != nullptr && capacity > 0) std::memcpy(buf, text.data(), static_cast<size_t>(std::min(length, capacity)));
  return length;
}

at::Generator default_generator(int32_t device_type, int32_t device_index) {
  switch (device_type) {
    case 0: return at::detail::getDefaultCPUGenerator();
#ifdef SORA_WITH_CUDA
    case 1: return at::cuda::detail::getDefaultCUDAGenerator(static_cast<c10::DeviceIndex>(device_index));
#endif
    default:
      (void)device_index;
      throw sora::argument_error("no default generator for device type " + std::to_string(device_type) + " in this build");
  }
}
}  // namespace

SORA_API int32_t sora_manual_seed(uint64_t seed) {
  SORA_STATUS({
    auto gen = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
#ifdef SORA_WITH_CUDA
    for (c10::DeviceIndex i = 0; i < c10::cuda::device_count(); ++i) {
      auto cuda = at::cuda::detail::getDefaultCUDAGenerator(i);
      std::lock_guard<std::mutex> lock(cuda.mutex());
      cuda.set_current_seed(seed);
    }
#endif
  })
}

SORA_API int64_t sora_generator_get_state(int32_t device_type, int32_t device_index, uint8_t* buf, int64_t capacity) {
  try {
    auto gen = default_generator(device_type, device_index);
    at::Tensor state;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      state = gen.get_state();
    }
    const auto size = static_cast<int64_t>(state.nbytes());
    if (buf != nullptr && capacity >= size) std::memcpy(buf, state.data_ptr(), static_cast<size_t>(size));
    return size;
  }
  SORA_CATCH(-1)
}

SORA_API int32_t sora_generator_set_state(int32_t device_type, int32_t device_index, const uint8_t* state, int64_t size) {
  SORA_STATUS({
    auto gen = default_generator(device_type, device_index);
    auto bytes = at::empty({size}, at::TensorOptions().dtype(at::kByte));
    if (size > 0) std::memcpy(bytes.data_ptr(), state, static_cast<size_t>(size));
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(bytes);
  })
}

SORA_API int32_t sora_set_num_threads(int32_t n) { SORA_STATUS(at::set_num_threads(n)) }
SORA_API int32_t sora_get_num_threads(void) { return at::get_num_threads(); }
SORA_API int32_t sora_set_num_interop_threads(int32_t n) { SORA_STATUS(at::set_num_interop_threads(n)) }
SORA_API int32_t sora_get_num_interop_threads(void) { return at::get_num_interop_threads(); }

SORA_API int32_t sora_set_blas_threads(int32_t n) {
  SORA_STATUS({
    using set_fn = void (*)(int);
    auto fn = reinterpret_cast<set_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (fn == nullptr) throw sora::argument_error("the loaded BLAS is not OpenBLAS; its thread count cannot be set");
    if (n < 1) throw sora::argument_error("BLAS thread count must be >= 1, got " + std::to_string(n));
    fn(n);
  })
}

SORA_API int32_t sora_get_blas_threads(void) {
  using get_fn = int (*)();
  auto fn = reinterpret_cast<get_fn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return fn != nullptr ? fn() : -1;
}

SORA_API int32_t sora_blas_library(char* buf, int32_t capacity) {
  try {
    void* symbol = dlsym(RTLD_DEFAULT, "sgemm_");
    Dl_info info{};
    if (symbol == nullptr || dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return write_string("", buf, capacity);
    char resolved[4096];
    const char* path = realpath(info.dli_fname, resolved) != nullptr ? resolved : info.dli_fname;
    return write_string(path, buf, capacity);
  }
  SORA_CATCH(-1)
}

SORA_API int32_t sora_blas_config(char* buf, int32_t capacity) {
  try {
    using config_fn = char* (*)();
    auto fn = reinterpret_cast<config_fn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
    return write_string(fn != nullptr ? fn() : "", buf, capacity);
  }
  SORA_CATCH(-1)
}

SORA_API int32_t sora_torch_version(char* buf, int32_t capacity) { return write_string(TORCH_VERSION, buf, capacity); }

SORA_API int32_t sora_parallel_info(char* buf, int32_t capacity) { SORA_VALUE(write_string(at::get_parallel_info(), buf, capacity), -1) }

SORA_API int32_t sora_built_with_cuda(void) {
#ifdef SORA_WITH_CUDA
  return 1;
#else
  return 0;
#endif
}

SORA_API int32_t sora_cuda_device_count(void) {
#ifdef SORA_WITH_CUDA
  try {
    return static_cast<int32_t>(c10::cuda::device_count());
  }
  SORA_CATCH(-1)
#else
  return 0;
#endif
}

SORA_API int32_t sora_cuda_synchronize(int32_t device_index) {
#ifdef SORA_WITH_CUDA
  SORA_STATUS({
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_index));
    c10::cuda::device_synchronize();
  })
#else
  (void)device_index;
  sora::set_error(SORA_ERR_ARGUMENT, "this build of Sora.Torch.Native has no CUDA support");
  return -1;
#endif
}

SORA_API int32_t sora_cuda_set_device(int32_t device_index) {
#ifdef SORA_WITH_CUDA
  SORA_STATUS({
    if (device_index < 0 || device_index >= static_cast<int32_t>(c10::cuda::device_count())) {
      throw sora::argument_error("cuda:" + std::to_string(device_index) + " is not a visible device (" +
                                 std::to_string(static_cast<int>(c10::cuda::device_count())) + " visible)");
    }
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(device_index));
  })
#else
  (void)device_index;
  sora::set_error(SORA_ERR_ARGUMENT, "this build of Sora.Torch.Native has no CUDA support");
  return -1;
#endif
}

SORA_API int32_t sora_cuda_memory(int32_t device_index, int64_t* allocated, int64_t* reserved, int64_t* peak_allocated) {
#ifdef SORA_WITH_CUDA
  SORA_STATUS({
    if (device_index < 0 || device_index >= static_cast<int32_t>(c10::cuda::device_count())) {
      throw sora::argument_error("cuda:" + std::to_string(device_index) + " is not a visible device");
    }
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device_index));
    // Entry 0 of each statistic is the aggregate over the pools in every libtorch release (the enum naming it
    // moved between namespaces).
    *allocated = stats.allocated_bytes[0].current;
    *reserved = stats.reserved_bytes[0].current;
    *peak_allocated = stats.allocated_bytes[0].peak;
  })
#else
  (void)device_index;
  (void)allocated;
  (void)reserved;
  (void)peak_allocated;
  sora::set_error(SORA_ERR_ARGUMENT, "this build of Sora.Torch.Native has no CUDA support");
  return -1;
#endif
}

namespace {
std::mutex g_profile_mutex;
std::unique_ptr<torch::autograd::profiler::RecordProfile> g_profile;
}  // namespace

SORA_API int32_t sora_profiler_start(const char* path) {
  SORA_STATUS({
    if (path == nullptr || *path == '\0') throw sora::argument_error("the profiler needs a trace file path");
    std::lock_guard<std::mutex> lock(g_profile_mutex);
    if (g_profile) throw sora::argument_error("the profiler is already recording");
    g_profile = std::make_unique<torch::autograd::profiler::RecordProfile>(std::string(path));
  });
}

SORA_API int32_t sora_profiler_stop(void) {
  SORA_STATUS({
    std::lock_guard<std::mutex> lock(g_profile_mutex);
    if (!g_profile) throw sora::argument_error("the profiler is not recording");
    g_profile.reset();  // writes the trace
  });
}

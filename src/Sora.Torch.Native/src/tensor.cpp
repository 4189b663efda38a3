// Tensor creation, properties, data movement and lifetime.
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

#include <ATen/native/Resize.h>
#ifdef SORA_WITH_CUDA
#include <ATen/native/cuda/Resize.h>
#endif

#include "internal.h"
#include "sora/tensor.h"

namespace sora {

at::Scalar scalar(const sora_scalar& s) {
  switch (s.kind) {
    case 0: return at::Scalar(s.d);
    case 1: return at::Scalar(s.i);
    case 2: return at::Scalar(s.i != 0);
    default: throw argument_error("unknown scalar kind " + std::to_string(s.kind));
  }
}

at::ScalarType dtype(int32_t code) {
  switch (code) {
    case 0: return at::kByte;
    case 1: return at::kChar;
    case 2: return at::kShort;
    case 3: return at::kInt;
    case 4: return at::kLong;
    case 5: return at::kHalf;
    case 6: return at::kFloat;
    case 7: return at::kDouble;
    case 11: return at::kBool;
    case 15: return at::kBFloat16;
    default: throw argument_error("unsupported dtype code " + std::to_string(code));
  }
}

at::Device device(int32_t type, int32_t index) {
  switch (type) {
    case 0: return at::Device(at::kCPU);
    case 1:
#ifdef SORA_WITH_CUDA
      return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index < 0 ? 0 : index));
#else
      (void)index;
      throw argument_error("this build of Sora.Torch.Native has no CUDA support (libtorch was built for CPU only)");
#endif
    default: throw argument_error("unknown device type " + std::to_string(type));
  }
}

std::vector<at::Tensor> tensors(const sora_tensor* handles, int32_t n) {
  if (n < 0) throw argument_error("negative tensor count");
  if (n > 0 && handles == nullptr) throw argument_error("tensor array pointer is null");
  std::vector<at::Tensor> result;
  result.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) result.push_back(T(handles[i]));
  return result;
}

void handles_out(const std::vector<at::Tensor>& values, sora_tensor* out, int32_t capacity) {
  if (static_cast<int32_t>(values.size()) > capacity) {
    throw argument_error("result has " + std::to_string(values.size()) + " tensors but the caller provided room for " +
                         std::to_string(capacity));
  }
  for (size_t i = 0; i < values.size(); ++i) out[i] = wrap(values[i]);
}

}  // namespace sora

namespace {
at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index) {
  return at::TensorOptions().dtype(sora::dtype(dtype)).device(sora::device(device_type, device_index));
}

int32_t write_string(const std::string& text, char* buf, int32_t capacity) {
  const auto length = static_cast<int32_t>(text.size());
  if (buf != nullptr && capacity > 0) std::memcpy(buf, text.data(), static_cast<size_t>(std::min(length, capacity)));
  return length;
}
}  // namespace

using sora::T;

namespace sora {
std::atomic<int64_t> live_tensor_handles{0};
}

SORA_API void sora_tensor_dispose(sora_tensor t) {
  if (t == nullptr) return;
  delete reinterpret_cast<at::Tensor*>(t);
  sora::live_tensor_handles.fetch_sub(1, std::memory_order_relaxed);
}

SORA_API int64_t sora_tensor_live_count(void) { return sora::live_tensor_handles.load(std::memory_order_relaxed); }

SORA_API sora_tensor sora_tensor_alias(sora_tensor t) { SORA_TENSOR_RESULT(T(t)) }

SORA_API sora_tensor sora_tensor_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index) {
  SORA_TENSOR_RESULT(at::empty(sora::dims(shape, ndim), options(dtype, device_type, device_index)))
}

namespace {

// One anonymous mapping shared by the tensors of sora_tensor_empty_shared; unmapped when the last of them dies.
struct SharedMapping {
  void* base;
  size_t length;
  SharedMapping(void* b, size_t l) : base(b), length(l) {}
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;
  ~SharedMapping() { munmap(base, length); }
};

}  // namespace

SORA_API int32_t sora_tensor_empty_shared(int32_t count, const int64_t* shapes, const int32_t* ndims, const int32_t* dtypes, sora_tensor* out) {
  SORA_STATUS({
    // 64-byte aligned slices of one mapping whose start is 2 MiB-aligned and advised for transparent huge pages:
    // first-touching fresh memory in 4 KiB pages costs a fault per page, which dominates filling new tensors.
    constexpr size_t huge = size_t{2} << 20;
    constexpr size_t align = 64;
    std::vector<std::vector<int64_t>> sizes(count);
    std::vector<size_t> offsets(count);
    size_t total = 0;
    const int64_t* shape = shapes;
    for (int32_t i = 0; i < count; ++i) {
      sizes[i].assign(shape, shape + ndims[i]);
      shape += ndims[i];
      size_t bytes = at::elementSize(sora::dtype(dtypes[i]));
      for (auto d : sizes[i]) {
        if (d < 0) throw sora::argument_error("tensor " + std::to_string(i) + " has a negative size");
        bytes *= static_cast<size_t>(d);
      }
      total = (total + align - 1) / align * align;
      offsets[i] = total;
      total += bytes;
    }
    const size_t length = total + huge;
    void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
      throw std::runtime_error("mmap of " + std::to_string(length) + " bytes failed: " + std::strerror(errno));
    }
    auto mapping = std::make_shared<SharedMapping>(base, length);
    const auto start = (reinterpret_cast<uintptr_t>(base) + huge - 1) & ~(huge - 1);
    (void)madvise(reinterpret_cast<void*>(start), length - (start - reinterpret_cast<uintptr_t>(base)), MADV_HUGEPAGE);
    std::vector<at::Tensor> tensors;
    tensors.reserve(count);
    for (int32_t i = 0; i < count; ++i) {
      tensors.push_back(at::from_blob(reinterpret_cast<void*>(start + offsets[i]), sizes[i], [mapping](void*) {},
                                      at::TensorOptions().dtype(sora::dtype(dtypes[i]))));
    }
    for (int32_t i = 0; i < count; ++i) out[i] = sora::wrap(std::move(tensors[i]));
  })
}

SORA_API sora_tensor sora_tensor_zeros(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index) {
  SORA_TENSOR_RESULT(at::zeros(sora::dims(shape, ndim), options(dtype, device_type, device_index)))
}

SORA_API sora_tensor sora_tensor_ones(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index) {
  SORA_TENSOR_RESULT(at::ones(sora::dims(shape, ndim), options(dtype, device_type, device_index)))
}

SORA_API sora_tensor sora_tensor_full(const int64_t* shape, int32_t ndim, sora_scalar value, int32_t dtype, int32_t device_type,
                                      int32_t device_index) {
  SORA_TENSOR_RESULT(at::full(sora::dims(shape, ndim), sora::scalar(value), options(dtype, device_type, device_index)))
}

SORA_API sora_tensor sora_tensor_arange(sora_scalar start, sora_scalar end, sora_scalar step, int32_t dtype, int32_t device_type,
                                        int32_t device_index) {
  SORA_TENSOR_RESULT(at::arange(sora::scalar(start), sora::scalar(end), sora::scalar(step), options(dtype, device_type, device_index)))
}

SORA_API sora_tensor sora_tensor_randn(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index) {
  SORA_TENSOR_RESULT(at::randn(sora::dims(shape, ndim), options(dtype, device_type, device_index)))
}

SORA_API sora_tensor sora_tensor_rand(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index) {
  SORA_TENSOR_RESULT(at::rand(sora::dims(shape, ndim), options(dtype, device_type, device_index)))
}

SORA_API sora_tensor sora_tensor_randint(int64_t low, int64_t high, const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type,
                                         int32_t device_index) {
  SORA_TENSOR_RESULT(at::randint(low, high, sora::dims(shape, ndim), options(dtype, device_type, device_index)))
}

SORA_API sora_tensor sora_tensor_scalar_tensor(sora_scalar value, int32_t dtype, int32_t device_type, int32_t device_index) {
  SORA_TENSOR_RESULT(at::scalar_tensor(sora::scalar(value), options(dtype, device_type, device_index)))
}

SORA_API sora_tensor sora_tensor_from_data(const void* data, int64_t nbytes, const int64_t* shape, int32_t ndim, int32_t dtype) {
  try {
    auto result = at::empty(sora::dims(shape, ndim), at::TensorOptions().dtype(sora::dtype(dtype)));
    const auto expected = static_cast<int64_t>(result.nbytes());
    if (nbytes != expected) {
      throw sora::argument_error("data has " + std::to_string(nbytes) + " bytes but shape " + c10::str(result.sizes()) + " of " +
                                 std::string(c10::toString(result.scalar_type())) + " needs " + std::to_string(expected));
    }
    if (expected > 0) {
      if (data == nullptr) throw sora::argument_error("data pointer is null");
      std::memcpy(result.data_ptr(), data, static_cast<size_t>(expected));
    }
    return sora::wrap(std::move(result));
  }
  SORA_CATCH(nullptr)
}

SORA_API int32_t sora_tensor_copy_to(sora_tensor t, void* dst, int64_t nbytes) {
  SORA_STATUS({
    auto source = T(t).detach().to(at::kCPU).contiguous();
    const auto expected = static_cast<int64_t>(source.nbytes());
    if (nbytes != expected) {
      throw sora::argument_error("destination has " + std::to_string(nbytes) + " bytes but the tensor has " + std::to_string(expected));
    }
    if (expected > 0) std::memcpy(dst, source.data_ptr(), static_cast<size_t>(expected));
  })
}

SORA_API void* sora_tensor_data_ptr(sora_tensor t) { SORA_VALUE(T(t).data_ptr(), nullptr) }

SORA_API int32_t sora_tensor_ndim(sora_tensor t) { SORA_VALUE(static_cast<int32_t>(T(t).dim()), -1) }

SORA_API int32_t sora_tensor_shape(sora_tensor t, int64_t* out, int32_t capacity) {
  try {
    const auto sizes = T(t).sizes();
    for (size_t i = 0; i < sizes.size() && static_cast<int32_t>(i) < capacity; ++i) out[i] = sizes[i];
    return static_cast<int32_t>(sizes.size());
  }
  SORA_CATCH(-1)
}

SORA_API int32_t sora_tensor_strides(sora_tensor t, int64_t* out, int32_t capacity) {
  try {
    const auto strides = T(t).strides();
    for (size_t i = 0; i < strides.size() && static_cast<int32_t>(i) < capacity; ++i) out[i] = strides[i];
    return static_cast<int32_t>(strides.size());
  }
  SORA_CATCH(-1)
}

SORA_API int64_t sora_tensor_numel(sora_tensor t) { SORA_VALUE(T(t).numel(), -1) }

SORA_API int32_t sora_tensor_dtype(sora_tensor t) { SORA_VALUE(static_cast<int32_t>(T(t).scalar_type()), -1) }

SORA_API int32_t sora_tensor_device_type(sora_tensor t) { SORA_VALUE(T(t).device().is_cuda() ? 1 : 0, -1) }

SORA_API int32_t sora_tensor_device_index(sora_tensor t) { SORA_VALUE(T(t).device().index(), -2) }

SORA_API int32_t sora_tensor_is_contiguous(sora_tensor t) { SORA_VALUE(T(t).is_contiguous() ? 1 : 0, -1) }

SORA_API int64_t sora_tensor_storage_offset(sora_tensor t) { SORA_VALUE(T(t).storage_offset(), -1) }

SORA_API const void* sora_tensor_storage_id(sora_tensor t) {
  try {
    // The storage object, not its data pointer: every empty storage has a null data pointer.
    return T(t).storage().unsafeGetStorageImpl();
  }
  SORA_CATCH(nullptr)
}

SORA_API int32_t sora_tensor_defined(sora_tensor t) { SORA_VALUE(T(t).defined() ? 1 : 0, -1) }

SORA_API int32_t sora_tensor_item_double(sora_tensor t, double* out) { SORA_STATUS(*out = T(t).item<double>()) }

SORA_API int32_t sora_tensor_item_int64(sora_tensor t, int64_t* out) { SORA_STATUS(*out = T(t).item<int64_t>()) }

SORA_API int32_t sora_tensor_to_string(sora_tensor t, char* buf, int32_t capacity) {
  try {
    std::ostringstream text;
    text << T(t);
    return write_string(text.str(), buf, capacity);
  }
  SORA_CATCH(-1)
}

SORA_API sora_tensor sora_tensor_to_dtype(sora_tensor t, int32_t dtype) { SORA_TENSOR_RESULT(T(t).to(sora::dtype(dtype))) }

SORA_API sora_tensor sora_tensor_to_device(sora_tensor t, int32_t device_type, int32_t device_index, int32_t non_blocking) {
  SORA_TENSOR_RESULT(T(t).to(sora::device(device_type, device_index), non_blocking != 0))
}

SORA_API sora_tensor sora_tensor_pin_memory(sora_tensor t) {
#ifdef SORA_WITH_CUDA
  SORA_TENSOR_RESULT(T(t).pin_memory())
#else
  (void)t;
  sora::set_error(SORA_ERR_ARGUMENT, "pinned host memory needs a shim built against a CUDA libtorch (this one is CPU-only)");
  return nullptr;
#endif
}

SORA_API int32_t sora_tensor_is_pinned(sora_tensor t) {
#ifdef SORA_WITH_CUDA
  SORA_VALUE(T(t).is_pinned() ? 1 : 0, -1)
#else
  try {
    (void)T(t);
    return 0;
  }
  SORA_CATCH(-1)
#endif
}

SORA_API sora_tensor sora_tensor_clone(sora_tensor t) { SORA_TENSOR_RESULT(T(t).clone()) }

SORA_API sora_tensor sora_tensor_contiguous(sora_tensor t) { SORA_TENSOR_RESULT(T(t).contiguous()) }

SORA_API int32_t sora_tensor_copy_(sora_tensor dst, sora_tensor src) { SORA_STATUS(T(dst).copy_(T(src))) }

SORA_API int32_t sora_tensor_fill_(sora_tensor t, sora_scalar value) { SORA_STATUS(T(t).fill_(sora::scalar(value))) }

SORA_API int32_t sora_tensor_zero_(sora_tensor t) { SORA_STATUS(T(t).zero_()) }

SORA_API int32_t sora_tensor_set_data(sora_tensor t, sora_tensor source) { SORA_STATUS(T(t).set_data(T(source))) }

SORA_API int32_t sora_tensor_storage_resize(sora_tensor t, int64_t nbytes) {
  SORA_STATUS({
    if (nbytes < 0) throw sora::argument_error("storage size must be >= 0, got " + std::to_string(nbytes));
    const auto& tensor = T(t);
    auto* storage = tensor.storage().unsafeGetStorageImpl();
    if (tensor.device().is_cpu()) {
      at::native::resize_bytes_cpu(storage, static_cast<size_t>(nbytes));
#ifdef SORA_WITH_CUDA
    } else if (tensor.device().is_cuda()) {
      at::native::resize_bytes_cuda(storage, static_cast<size_t>(nbytes));
#endif
    } else {
      throw sora::argument_error("storage resize is implemented for CPU and CUDA tensors, not " + tensor.device().str());
    }
  })
}

SORA_API int64_t sora_tensor_storage_nbytes(sora_tensor t) { SORA_VALUE(static_cast<int64_t>(T(t).storage().nbytes()), -1) }

SORA_API int32_t sora_tensor_uniform_(sora_tensor t, double from, double to) { SORA_STATUS(T(t).uniform_(from, to)) }

SORA_API int32_t sora_tensor_normal_(sora_tensor t, double mean, double std) { SORA_STATUS(T(t).normal_(mean, std)) }

// Shared by every translation unit of the shim: handle conversion and the exception barrier.
#pragma once

#include "pch.h"
#include "sora/common.h"

namespace sora {

void set_error(int32_t kind, const char* message);
void set_error(int32_t kind, const std::string& message);

// A managed callback failed. Carries the message and token the callback recorded on its own
// thread with sora_set_callback_error, so they survive autograd moving the exception across threads.
struct callback_error : std::runtime_error {
  callback_error(const std::string& message, int64_t token) : std::runtime_error(message), token(token) {}
  int64_t token;
};

// Builds the callback_error for a callback that just returned failure on this thread.
callback_error take_callback_error(const char* fallback);

// Thrown by the shim's own validation.
struct argument_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

inline at::Tensor& T(sora_tensor h) {
  if (h == nullptr) throw argument_error("tensor handle is null (disposed or never created)");
  return *reinterpret_cast<at::Tensor*>(h);
}

// Optional tensor argument: null handle means "absent".
inline c10::optional<at::Tensor> opt(sora_tensor h) {
  if (h == nullptr) return c10::nullopt;
  return *reinterpret_cast<at::Tensor*>(h);
}

// Handles alive now: the leak test's exact measure.
extern std::atomic<int64_t> live_tensor_handles;

inline sora_tensor wrap(at::Tensor t) {
  auto* handle = new at::Tensor(std::move(t));
  live_tensor_handles.fetch_add(1, std::memory_order_relaxed);
  return reinterpret_cast<sora_tensor>(handle);
}

inline at::IntArrayRef dims(const int64_t* values, int32_t n) {
  if (n < 0) throw argument_error("negative array length " + std::to_string(n));
  if (n > 0 && values == nullptr) throw argument_error("array pointer is null but its length is " + std::to_string(n));
  return at::IntArrayRef(values, static_cast<size_t>(n));
}

at::Scalar scalar(const sora_scalar& s);
at::ScalarType dtype(int32_t code);
at::Device device(int32_t type, int32_t index);

std::vector<at::Tensor> tensors(const sora_tensor* handles, int32_t n);
void handles_out(const std::vector<at::Tensor>& values, sora_tensor* out, int32_t capacity);

void record_exception(std::exception_ptr error);

}  // namespace sora

// The exception barrier every export goes through.
#define SORA_CATCH(fail)                             \
  catch (...) {                                      \
    sora::record_exception(std::current_exception()); \
    return fail;                                     \
  }

#define SORA_TENSOR_RESULT(expr) \
  try {                          \
    return sora::wrap(expr);     \
  }                              \
  SORA_CATCH(nullptr)

#define SORA_VALUE(expr, fail) \
  try {                        \
    return expr;               \
  }                            \
  SORA_CATCH(fail)

#define SORA_STATUS(body) \
  try {                   \
    body;                 \
    return 0;             \
  }                       \
  SORA_CATCH(-1)

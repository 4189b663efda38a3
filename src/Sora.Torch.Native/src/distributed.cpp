// c10d stores and process groups behind the C boundary.
//
// Written against what libtorch 1.13 and 2.x share: the concrete process-group classes
// (ProcessGroupGloo, ProcessGroupNCCL) and their collective methods. Their common base is
// c10d::ProcessGroup in 1.13 and c10d::Backend in 2.x, chosen below by the version macro.
// Gaps of Gloo in 1.13 are filled here, where the work handle can finish them:
// - ReduceOp::AVG: SUM, then divide by the world size when the work is waited on;
// - _allgather_base (one flat output): allgather into views of the flat output;
// - reduce_scatter: all-reduce of the whole input, then this rank's slice is copied out. That moves
//   2·(N−1)/N of the input per rank instead of (N−1)/N: twice a native reduce-scatter's traffic.
// - bfloat16 (Gloo 1.13 refuses it): collectives that only move data (broadcast, all_gather) send the
//   bits viewed as fp16, which is exact; reductions of bf16 stay refused (reduce in fp32).
#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#ifdef SORA_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

#ifdef SORA_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <functional>

#include "internal.h"
#include "sora/distributed.h"

#if TORCH_VERSION_MAJOR >= 2
using sora_backend_base = c10d::Backend;
#else
using sora_backend_base = c10d::ProcessGroup;
#endif

struct sora_store_s {
  c10::intrusive_ptr<c10d::Store> store;
  int32_t port = 0;
};

struct sora_process_group_s {
  c10::intrusive_ptr<sora_backend_base> group;
  int32_t backend = SORA_BACKEND_GLOO;
  int32_t rank = 0;
  int32_t size = 1;
  std::chrono::milliseconds timeout{0};
};

struct sora_work_s {
  c10::intrusive_ptr<c10d::Work> work;
  // Runs once, after the work completed successfully: what the backend could not do itself.
  std::function<void()> finish;
  std::chrono::milliseconds timeout{0};
  bool finished = false;
};

namespace {

std::chrono::milliseconds millis(int64_t value, const char* what) {
  if (value <= 0) throw sora::argument_error(std::string(what) + " must be positive, got " + std::to_string(value) + " ms");
  return std::chrono::milliseconds(value);
}

c10d::Store& S(sora_store h) {
  if (h == nullptr) throw sora::argument_error("store handle is null (disposed or never created)");
  return *h->store;
}

sora_process_group_s& G(sora_process_group h) {
  if (h == nullptr) throw sora::argument_error("process group handle is null (disposed or never created)");
  return *h;
}

std::string key_of(const char* key) {
  if (key == nullptr) throw sora::argument_error("store key is null");
  return std::string(key);
}

bool is_gloo(const sora_process_group_s& g) { return g.backend == SORA_BACKEND_GLOO; }

// The op the backend runs, and whether AVG must be finished by dividing afterwards.
c10d::ReduceOp reduce_op(const sora_process_group_s& g, int32_t op, bool* divide_after) {
  *divide_after = false;
  switch (op) {
    case SORA_REDUCE_SUM: return c10d::ReduceOp::SUM;
    case SORA_REDUCE_AVG:
      if (is_gloo(g)) {
        *divide_after = true;
        return c10d::ReduceOp::SUM;
      }
      return c10d::ReduceOp::AVG;
    case SORA_REDUCE_MAX: return c10d::ReduceOp::MAX;
    case SORA_REDUCE_MIN: return c10d::ReduceOp::MIN;
    case SORA_REDUCE_PRODUCT: return c10d::ReduceOp::PRODUCT;
    default: throw sora::argument_error("unknown reduce op " + std::to_string(op));
  }
}

// What Gloo moves for a data-only collective: bf16 travels as its bits viewed as fp16 (Gloo copies them
// untouched; it has no int16), anything else as is.
at::Tensor as_movable(const sora_process_group_s& g, const at::Tensor& t) {
  return is_gloo(g) && t.scalar_type() == at::kBFloat16 ? t.view(at::kHalf) : t;
}

void require_contiguous(const at::Tensor& t, const char* what) {
  if (!t.is_contiguous()) throw sora::argument_error(std::string(what) + " must be contiguous");
}

sora_work wrap_work(const sora_process_group_s& g, c10::intrusive_ptr<c10d::Work> work, std::function<void()> finish = {}) {
  auto* handle = new sora_work_s();
  handle->work = std::move(work);
  handle->finish = std::move(finish);
  handle->timeout = g.timeout;
  return handle;
}

// Integer tensors cannot be averaged in place by division; callers asking AVG get a clear error.
void check_avg_dtype(const at::Tensor& t) {
  if (!at::isFloatingType(t.scalar_type())) {
    throw sora::argument_error("AVG needs a floating-point tensor, got " + std::string(c10::toString(t.scalar_type())));
  }
}

}  // namespace

SORA_API sora_store sora_store_tcp_create(const char* host, int32_t port, int32_t is_server, int32_t world_size,
                                          int32_t wait_for_workers, int64_t timeout_ms) {
  try {
    if (host == nullptr) throw sora::argument_error("store host is null");
    if (port < 0 || port > 65535) throw sora::argument_error("store port must be 0..65535, got " + std::to_string(port));
    if (port == 0 && is_server == 0) throw sora::argument_error("a store client needs the server's port, got 0");
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(port);
    options.isServer = is_server != 0;
    if (world_size > 0) options.numWorkers = static_cast<std::size_t>(world_size);
    options.waitWorkers = wait_for_workers != 0 && world_size > 0;
    options.timeout = millis(timeout_ms, "store timeout");
    auto store = c10::make_intrusive<c10d::TCPStore>(std::string(host), options);
    auto* handle = new sora_store_s();
    handle->port = store->getPort();
    handle->store = std::move(store);
    return handle;
  }
  SORA_CATCH(nullptr)
}

SORA_API sora_store sora_store_prefix_create(const char* prefix, sora_store inner) {
  try {
    S(inner);
    auto* handle = new sora_store_s();
    handle->store = c10::make_intrusive<c10d::PrefixStore>(key_of(prefix), inner->store);
    handle->port = inner->port;
    return handle;
  }
  SORA_CATCH(nullptr)
}

SORA_API int32_t sora_store_port(sora_store store) {
  SORA_VALUE((S(store), store->port), -1)
}

SORA_API int32_t sora_store_set(sora_store store, const char* key, const uint8_t* value, int64_t length) {
  SORA_STATUS({
    if (length < 0 || (length > 0 && value == nullptr)) throw sora::argument_error("store value pointer/length are invalid");
    S(store).set(key_of(key), std::vector<uint8_t>(value, value + length));
  })
}

SORA_API int64_t sora_store_get(sora_store store, const char* key, uint8_t* buf, int64_t capacity) {
  try {
    const auto value = S(store).get(key_of(key));
    const auto length = static_cast<int64_t>(value.size());
    if (buf != nullptr && capacity >= length && length > 0) std::memcpy(buf, value.data(), value.size());
    return length;
  }
  SORA_CATCH(-1)
}

SORA_API int32_t sora_store_add(sora_store store, const char* key, int64_t delta, int64_t* result) {
  SORA_STATUS({ *result = S(store).add(key_of(key), delta); })
}

SORA_API int32_t sora_store_check(sora_store store, const char* key, int32_t* exists) {
  SORA_STATUS({ *exists = S(store).check({key_of(key)}) ? 1 : 0; })
}

SORA_API int32_t sora_store_delete(sora_store store, const char* key, int32_t* deleted) {
  SORA_STATUS({ *deleted = S(store).deleteKey(key_of(key)) ? 1 : 0; })
}

SORA_API int32_t sora_store_wait(sora_store store, const char* const* keys, int32_t count, int64_t timeout_ms) {
  SORA_STATUS({
    if (count < 0 || (count > 0 && keys == nullptr)) throw sora::argument_error("store wait: invalid key array");
    std::vector<std::string> names;
    names.reserve(static_cast<size_t>(count));
    for (int32_t i = 0; i < count; ++i) names.push_back(key_of(keys[i]));
    S(store).wait(names, millis(timeout_ms, "store wait timeout"));
  })
}

SORA_API int32_t sora_store_set_timeout(sora_store store, int64_t timeout_ms) {
  SORA_STATUS({ S(store).setTimeout(millis(timeout_ms, "store timeout")); })
}

SORA_API void sora_store_dispose(sora_store store) {
  try {
    delete store;
  } catch (...) {
    sora::record_exception(std::current_exception());
  }
}

SORA_API int32_t sora_backend_available(int32_t backend) {
  switch (backend) {
#ifdef SORA_WITH_GLOO
    case SORA_BACKEND_GLOO: return 1;
#endif
#ifdef SORA_WITH_NCCL
    case SORA_BACKEND_NCCL: return 1;
#endif
    default: return 0;
  }
}

SORA_API sora_process_group sora_process_group_create(int32_t backend, sora_store store, int32_t rank, int32_t size,
                                                      const char* host, int64_t timeout_ms) {
  try {
    S(store);
    if (size < 1) throw sora::argument_error("world size must be >= 1, got " + std::to_string(size));
    if (rank < 0 || rank >= size) {
      throw sora::argument_error("rank " + std::to_string(rank) + " is outside 0.." + std::to_string(size - 1));
    }
    const auto timeout = millis(timeout_ms, "process group timeout");
    auto handle = std::make_unique<sora_process_group_s>();
    handle->backend = backend;
    handle->rank = rank;
    handle->size = size;
    handle->timeout = timeout;
    if (backend == SORA_BACKEND_GLOO) {
#ifdef SORA_WITH_GLOO
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      const std::string address = host != nullptr && host[0] != '\0' ? host : "127.0.0.1";
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(address));
      options->threads = 2;
      handle->group = c10::make_intrusive<c10d::ProcessGroupGloo>(store->store, rank, size, options);
#else
      throw sora::argument_error("this build has no Gloo support (its libtorch came without Gloo headers; set SORA_GLOO_ROOT)");
#endif
    } else if (backend == SORA_BACKEND_NCCL) {
#ifdef SORA_WITH_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      handle->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store->store, rank, size, options);
#else
      throw sora::argument_error("this build has no NCCL support (built against a CPU-only libtorch)");
#endif
    } else {
      throw sora::argument_error("unknown process group backend " + std::to_string(backend));
    }
    return handle.release();
  }
  SORA_CATCH(nullptr)
}

SORA_API int32_t sora_process_group_rank(sora_process_group group) { SORA_VALUE(G(group).rank, -1) }

SORA_API int32_t sora_process_group_size(sora_process_group group) { SORA_VALUE(G(group).size, -1) }

SORA_API void sora_process_group_dispose(sora_process_group group) {
  try {
    delete group;
  } catch (...) {
    sora::record_exception(std::current_exception());
  }
}

SORA_API sora_work sora_all_reduce(sora_process_group group, sora_tensor tensor, int32_t op) {
  return sora_all_reduce_coalesced(group, &tensor, 1, op);
}

SORA_API sora_work sora_all_reduce_coalesced(sora_process_group group, const sora_tensor* tensors, int32_t count, int32_t op) {
  try {
    auto& g = G(group);
    auto values = sora::tensors(tensors, count);
    if (values.empty()) throw sora::argument_error("all_reduce needs at least one tensor");
    bool divide_after = false;
    c10d::AllreduceCoalescedOptions options;  // derives from AllreduceOptions: serves both calls
    options.reduceOp = reduce_op(g, op, &divide_after);
    for (const auto& t : values) {
      require_contiguous(t, "all_reduce tensor");
      if (divide_after) check_avg_dtype(t);
    }
    // Gloo's allreduce treats several tensors as replicas of one; distinct tensors go through
    // allreduce_coalesced, which packs them into one message.
    auto work = values.size() == 1 ? g.group->allreduce(values, options) : g.group->allreduce_coalesced(values, options);
    std::function<void()> finish;
    if (divide_after && g.size > 1) {
      const auto size = g.size;
      finish = [values, size]() {
        at::NoGradGuard no_grad;
        for (auto t : values) t.div_(size);
      };
    }
    return wrap_work(g, std::move(work), std::move(finish));
  }
  SORA_CATCH(nullptr)
}

SORA_API sora_work sora_broadcast(sora_process_group group, sora_tensor tensor, int32_t root) {
  try {
    auto& g = G(group);
    if (root < 0 || root >= g.size) throw sora::argument_error("broadcast root " + std::to_string(root) + " is outside the group");
    std::vector<at::Tensor> values{as_movable(g, sora::T(tensor))};
    require_contiguous(values[0], "broadcast tensor");
    c10d::BroadcastOptions options;
    options.rootRank = root;
    return wrap_work(g, g.group->broadcast(values, options));
  }
  SORA_CATCH(nullptr)
}

SORA_API sora_work sora_all_gather(sora_process_group group, sora_tensor output, sora_tensor input) {
  try {
    auto& g = G(group);
    auto& out = sora::T(output);
    const auto& in = sora::T(input);
    require_contiguous(out, "all_gather output");
    require_contiguous(in, "all_gather input");
    if (out.numel() != in.numel() * g.size) {
      throw sora::argument_error("all_gather output has " + std::to_string(out.numel()) + " elements; expected world size " +
                                 std::to_string(g.size) + " x input " + std::to_string(in.numel()));
    }
    if (out.scalar_type() != in.scalar_type()) throw sora::argument_error("all_gather output and input dtypes differ");
    auto flat_out = as_movable(g, out.view({-1}));
    std::vector<std::vector<at::Tensor>> outputs(1);
    for (int32_t r = 0; r < g.size; ++r) outputs[0].push_back(flat_out.narrow(0, r * in.numel(), in.numel()));
    std::vector<at::Tensor> inputs{as_movable(g, in.view({-1}))};
    return wrap_work(g, g.group->allgather(outputs, inputs));
  }
  SORA_CATCH(nullptr)
}

SORA_API sora_work sora_reduce_scatter(sora_process_group group, sora_tensor output, sora_tensor input, int32_t op) {
  try {
    auto& g = G(group);
    auto out = sora::T(output);
    const auto& in = sora::T(input);
    require_contiguous(out, "reduce_scatter output");
    require_contiguous(in, "reduce_scatter input");
    if (in.numel() != out.numel() * g.size) {
      throw sora::argument_error("reduce_scatter input has " + std::to_string(in.numel()) + " elements; expected world size " +
                                 std::to_string(g.size) + " x output " + std::to_string(out.numel()));
    }
    if (out.scalar_type() != in.scalar_type()) throw sora::argument_error("reduce_scatter output and input dtypes differ");
    bool divide_after = false;
    const auto reduce = reduce_op(g, op, &divide_after);
    if (divide_after) check_avg_dtype(out);
    const auto size = g.size;
    const auto offset = static_cast<int64_t>(g.rank) * out.numel();
    if (!is_gloo(g)) {
      c10d::ReduceScatterOptions options;
      options.reduceOp = reduce;
      auto flat_in = in.view({-1});
      auto flat_out = out.view({-1});
      return wrap_work(g, g.group->_reduce_scatter_base(flat_out, flat_in, options));
    }
    // Gloo: all-reduce a scratch copy (the caller's input stays as it was), keep this rank's slice.
    std::vector<at::Tensor> scratch{in.view({-1}).clone()};
    c10d::AllreduceOptions options;
    options.reduceOp = reduce;
    auto work = g.group->allreduce(scratch, options);
    auto finish = [scratch, out, offset, divide_after, size]() mutable {
      at::NoGradGuard no_grad;
      auto slice = scratch[0].narrow(0, offset, out.numel());
      out.view({-1}).copy_(slice);
      if (divide_after && size > 1) out.div_(size);
    };
    return wrap_work(g, std::move(work), std::move(finish));
  }
  SORA_CATCH(nullptr)
}

SORA_API sora_work sora_barrier(sora_process_group group) {
  try {
    auto& g = G(group);
    c10d::BarrierOptions options;
    options.timeout = g.timeout;
    return wrap_work(g, g.group->barrier(options));
  }
  SORA_CATCH(nullptr)
}

SORA_API int32_t sora_work_wait(sora_work work, int64_t timeout_ms) {
  SORA_STATUS({
    if (work == nullptr) throw sora::argument_error("work handle is null (disposed or never created)");
    if (work->finished) return 0;
    const auto timeout = timeout_ms > 0 ? std::chrono::milliseconds(timeout_ms) : work->timeout;
    if (!work->work->wait(timeout)) throw std::runtime_error("collective did not complete");
    if (work->finish) work->finish();
    work->finished = true;
  })
}

SORA_API int32_t sora_work_is_completed(sora_work work) {
  try {
    if (work == nullptr) throw sora::argument_error("work handle is null (disposed or never created)");
    return work->work->isCompleted() ? 1 : 0;
  }
  SORA_CATCH(-1)
}

SORA_API void sora_work_dispose(sora_work work) {
  try {
    delete work;
  } catch (...) {
    sora::record_exception(std::current_exception());
  }
}

// Scaled dot-product attention.
//
// On the CPU: one (batch, head) at a time per thread, each thread running its own single-threaded GEMMs,
// so a head's (L, S) scores are computed, masked, soft-maxed and multiplied by V while they sit in that
// core's cache, instead of each step streaming the whole (B, L, S) tensor through memory with GEMMs of
// K = 64 split across threads. Backward uses softmax's identity dS = P ⊙ (dP − rowsum(dO ⊙ O)), so it
// needs only the probabilities P and the output O saved by forward (what the composite path saves too).
// On CUDA with libtorch 2.x: at::scaled_dot_product_attention (flash / memory-efficient kernels).
// Anything else (a float mask that needs its own gradient, other devices): the composite ATen path.
#include <torch/csrc/api/include/torch/autograd.h>
#include <torch/csrc/api/include/torch/version.h>

#include <dlfcn.h>

#include <cstdlib>
#include <limits>

#include "internal.h"
#include "sora/nn.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// OpenBLAS's own threads would fight the threads of the per-head loop: one BLAS thread while it runs.
// (With another BLAS, e.g. MKL on OpenMP, calls inside a parallel region are single-threaded already.)
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() {
    get_ = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    set_ = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (get_ != nullptr && set_ != nullptr) {
      previous_ = get_();
      if (previous_ > 1) set_(1);
    }
  }
  ~SingleThreadedBlas() {
    if (set_ != nullptr && previous_ > 1) set_(previous_);
  }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int (*get_)() = nullptr;
  void (*set_)(int) = nullptr;
  int previous_ = 1;
};

at::Tensor composite(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const c10::optional<at::Tensor>& mask, double scale) {
  // Scale the queries, not the scores: (L, d) elements instead of (L, L), forward and backward.
  auto scores = at::matmul(q.mul(scale), k.transpose(-2, -1));
  if (mask.has_value()) {
    const auto& m = *mask;
    scores = m.scalar_type() == at::kBool ? scores.masked_fill(m.logical_not(), -std::numeric_limits<double>::infinity()) : scores + m;
  }
  return at::matmul(at::softmax(scores, -1), v);
}

// (..., X, Y) → (B, X, Y), contiguous.
at::Tensor flat3(const at::Tensor& t) { return t.reshape({-1, t.size(-2), t.size(-1)}).contiguous(); }

// The mask travels as a plain value, not a tensor argument: autograd tracks tensor arguments, and a mask
// (absent, or never needing a gradient) has nothing to track.
struct MaskArgument {
  at::Tensor value;
};

struct CpuAttention : public torch::autograd::Function<CpuAttention> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const MaskArgument& mask_argument, double scale) {
    const auto& mask = mask_argument.value;
    const auto batch = q.sizes().slice(0, q.dim() - 2).vec();
    auto qf = flat3(q), kf = flat3(k), vf = flat3(v);
    const auto b = qf.size(0), l = qf.size(1), s = kf.size(1);
    at::Tensor masks;  // (B, L, S) or undefined
    if (mask.defined()) {
      auto full = batch;
      full.push_back(l);
      full.push_back(s);
      masks = mask.expand(full).reshape({b, l, s}).contiguous();
      if (masks.scalar_type() == at::kBool) masks = masks.logical_not();
    }
    auto p = at::empty({b, l, s}, qf.options());
    auto out = at::empty({b, l, vf.size(2)}, qf.options());
    {
      SingleThreadedBlas single;
      at::parallel_for(0, b, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          auto scores = p[i];
          at::mm_out(scores, qf[i], kf[i].t());
          scores.mul_(scale);
          if (masks.defined()) {
            if (masks.scalar_type() == at::kBool) {
              scores.masked_fill_(masks[i], -std::numeric_limits<double>::infinity());
            } else {
              scores.add_(masks[i]);
            }
          }
          at::_softmax_out(scores, scores, -1, false);
          auto o = out[i];
          at::mm_out(o, scores, vf[i]);
        }
      });
    }
    ctx->save_for_backward({qf, kf, vf, p, out});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["q_shape"] = q.sizes().vec();
    ctx->saved_data["k_shape"] = k.sizes().vec();
    ctx->saved_data["v_shape"] = v.sizes().vec();
    auto shape = batch;
    shape.push_back(l);
    shape.push_back(vf.size(2));
    return out.view(shape);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &qf = saved[0], &kf = saved[1], &vf = saved[2], &p = saved[3], &out = saved[4];
    const auto scale = ctx->saved_data["scale"].toDouble();
    const auto b = qf.size(0);
    auto dout = flat3(grads[0]);
    auto dq = at::empty_like(qf), dk = at::empty_like(kf), dv = at::empty_like(vf);
    // rowsum(dO ⊙ O) = rowsum(P ⊙ dP): softmax's backward without a second (L, S) product.
    auto rows = dout.mul(out).sum(-1, true);
    {
      SingleThreadedBlas single;
      at::parallel_for(0, b, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          auto dvi = dv[i];
          at::mm_out(dvi, p[i].t(), dout[i]);
          auto ds = at::mm(dout[i], vf[i].t());  // dP, then dS in place
          ds.sub_(rows[i]).mul_(p[i]).mul_(scale);
          auto dqi = dq[i];
          at::mm_out(dqi, ds, kf[i]);
          auto dki = dk[i];
          at::mm_out(dki, ds.t(), qf[i]);
        }
      });
    }
    return {dq.view(ctx->saved_data["q_shape"].toIntVector()), dk.view(ctx->saved_data["k_shape"].toIntVector()),
            dv.view(ctx->saved_data["v_shape"].toIntVector()), at::Tensor(), at::Tensor()};
  }
};

// SORA_ATTENTION=composite turns the fused CPU kernel off (to compare, or to rule it out), read once.
bool fused_cpu_enabled() {
  static const bool enabled = [] {
    const char* value = std::getenv("SORA_ATTENTION");
    return value == nullptr || std::string(value) != "composite";
  }();
  return enabled;
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const c10::optional<at::Tensor>& mask, double scale) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  if (q.is_cuda()) return at::scaled_dot_product_attention(q, k, v, mask, 0.0, false, scale);
#endif
  const bool fused = fused_cpu_enabled() && q.is_cpu() && q.dim() >= 3 && k.dim() == q.dim() && v.dim() == q.dim() &&
                     q.sizes().slice(0, q.dim() - 2) == k.sizes().slice(0, k.dim() - 2) &&
                     k.sizes().slice(0, k.dim() - 1) == v.sizes().slice(0, v.dim() - 1) &&
                     q.scalar_type() == k.scalar_type() && q.scalar_type() == v.scalar_type() &&
                     (!mask.has_value() || mask->scalar_type() == at::kBool || (!mask->requires_grad() && mask->scalar_type() == q.scalar_type()));
  if (!fused) return composite(q, k, v, mask, scale);
  return CpuAttention::apply(q, k, v, MaskArgument{mask.has_value() ? *mask : at::Tensor()}, scale);
}

}  // namespace

SORA_API sora_tensor sora_attention(sora_tensor q, sora_tensor k, sora_tensor v, sora_tensor mask, double scale) {
  try {
    c10::optional<at::Tensor> m;
    if (mask != nullptr) m = sora::T(mask);
    return sora::wrap(attention(sora::T(q), sora::T(k), sora::T(v), m, scale));
  }
  SORA_CATCH(nullptr)
}

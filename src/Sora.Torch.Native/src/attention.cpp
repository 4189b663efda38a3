// Scaled dot-product attention.
//
// On CUDA with libtorch 2.1+: at::scaled_dot_product_attention, which picks flash or memory-efficient
// kernels. Elsewhere the composite path below. Two fused CPU variants were built and measured against it at
// the bench shapes (4×4 heads, 512 tokens, head dim 64, forward and backward, median of 20): a custom
// autograd function with batched GEMMs and softmax's backward done in place (79 ms vs 76 ms), and one
// computing each (batch, head) in cache with single-threaded GEMMs (slower: its 512×512×64 products lost
// more than the cache saved). Neither beat the composite path, so neither is kept.
#include <torch/csrc/api/include/torch/version.h>

#include <limits>

#include "internal.h"
#include "sora/nn.h"

namespace {

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const c10::optional<at::Tensor>& mask, double scale) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  if (q.is_cuda()) return at::scaled_dot_product_attention(q, k, v, mask, 0.0, false, scale);
#endif
  // Scale the queries, not the scores: (L, d) elements instead of (L, L), forward and backward.
  auto scores = at::matmul(q.mul(scale), k.transpose(-2, -1));
  if (mask.has_value()) {
    const auto& m = *mask;
    scores = m.scalar_type() == at::kBool ? scores.masked_fill(m.logical_not(), -std::numeric_limits<double>::infinity()) : scores + m;
  }
  return at::matmul(at::softmax(scores, -1), v);
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

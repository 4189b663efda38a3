// Fused optimizer steps: one boundary crossing per step instead of a dozen per parameter.
#include <cmath>

#include "internal.h"
#include "sora/optim.h"

using sora::T;

SORA_API int32_t sora_adamw_step(const sora_tensor* params, const sora_tensor* grads, const sora_tensor* exp_avgs,
                                 const sora_tensor* exp_avg_sqs, int32_t count, double lr, double beta1, double beta2, double eps,
                                 double weight_decay, int64_t step) {
  SORA_STATUS({
    if (step < 1) throw sora::argument_error("AdamW step count must be >= 1, got " + std::to_string(step));
    at::NoGradGuard no_grad;
    const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(step));
    const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(step));
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    for (int32_t i = 0; i < count; ++i) {
      if (grads[i] == nullptr) continue;
      auto& param = T(params[i]);
      const auto& grad = T(grads[i]);
      auto& exp_avg = T(exp_avgs[i]);
      auto& exp_avg_sq = T(exp_avg_sqs[i]);
      param.mul_(1.0 - lr * weight_decay);
      exp_avg.lerp_(grad, 1.0 - beta1);
      exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1.0 - beta2);
      const auto denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
      param.addcdiv_(exp_avg, denom, -step_size);
    }
  })
}

SORA_API int32_t sora_sgd_step(const sora_tensor* params, const sora_tensor* grads, const sora_tensor* momentum_buffers, int32_t count,
                               double lr, double momentum, double dampening, double weight_decay, int32_t nesterov, int32_t first_step) {
  SORA_STATUS({
    at::NoGradGuard no_grad;
    for (int32_t i = 0; i < count; ++i) {
      if (grads[i] == nullptr) continue;
      auto& param = T(params[i]);
      auto d_p = T(grads[i]);
      if (weight_decay != 0) d_p = d_p.add(param, weight_decay);
      if (momentum != 0) {
        auto& buf = T(momentum_buffers[i]);
        if (first_step != 0) {
          buf.copy_(d_p);
        } else {
          buf.mul_(momentum).add_(d_p, 1.0 - dampening);
        }
        d_p = nesterov != 0 ? d_p.add(buf, momentum) : buf;
      }
      param.add_(d_p, -lr);
    }
  })
}

SORA_API int32_t sora_total_norm(const sora_tensor* tensors, int32_t count, double p, double* out) {
  SORA_STATUS({
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> norms;
    for (int32_t i = 0; i < count; ++i) {
      if (tensors[i] != nullptr) norms.push_back(at::norm(T(tensors[i]), p).to(at::kDouble));
    }
    *out = norms.empty() ? 0.0 : at::norm(at::stack(norms), p).item<double>();
  })
}

SORA_API int32_t sora_scale_(const sora_tensor* tensors, int32_t count, double factor) {
  SORA_STATUS({
    at::NoGradGuard no_grad;
    for (int32_t i = 0; i < count; ++i) {
      if (tensors[i] != nullptr) T(tensors[i]).mul_(factor);
    }
  })
}

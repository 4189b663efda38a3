/* Fused optimizer steps over lists of tensors. State tensors are owned by the caller, so
 * optimizer state can be read, written, sharded and checkpointed from managed code. */
#ifndef SORA_OPTIM_H
#define SORA_OPTIM_H

#include "sora/common.h"

/* AdamW with decoupled weight decay (Loshchilov & Hutter), the same arithmetic as
 * torch.optim.AdamW's single-tensor path. step is the 1-based step count after this update.
 * Parameters whose grad handle is NULL are skipped. */
SORA_API int32_t sora_adamw_step(const sora_tensor* params, const sora_tensor* grads, const sora_tensor* exp_avgs,
                                 const sora_tensor* exp_avg_sqs, int32_t count, double lr, double beta1, double beta2, double eps,
                                 double weight_decay, int64_t step);

/* SGD with optional momentum, dampening and Nesterov, as torch.optim.SGD. momentum_buffers[i]
 * may be NULL when momentum is 0. first_step: the buffers are initialised with the gradient. */
SORA_API int32_t sora_sgd_step(const sora_tensor* params, const sora_tensor* grads, const sora_tensor* momentum_buffers, int32_t count,
                               double lr, double momentum, double dampening, double weight_decay, int32_t nesterov, int32_t first_step);

/* The p-norm of all tensors together (as one flat vector). NULL entries are skipped. */
SORA_API int32_t sora_total_norm(const sora_tensor* tensors, int32_t count, double p, double* out);
/* Multiplies every tensor in place by factor. NULL entries are skipped. */
SORA_API int32_t sora_scale_(const sora_tensor* tensors, int32_t count, double factor);

#endif

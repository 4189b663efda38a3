/* Autograd: gradient flags, backward, gradient access, grad mode, hooks into managed code. */
#ifndef SORA_AUTOGRAD_H
#define SORA_AUTOGRAD_H

#include "sora/common.h"

SORA_API int32_t sora_set_requires_grad(sora_tensor t, int32_t requires_grad);
SORA_API int32_t sora_requires_grad(sora_tensor t);
SORA_API int32_t sora_is_leaf(sora_tensor t);
/* The accumulated gradient, or NULL without error when there is none. */
SORA_API sora_tensor sora_grad(sora_tensor t);
/* grad may be NULL to clear it. */
SORA_API int32_t sora_set_grad(sora_tensor t, sora_tensor grad);
/* grad may be NULL for a scalar output. */
SORA_API int32_t sora_backward(sora_tensor t, sora_tensor grad, int32_t retain_graph, int32_t create_graph);
SORA_API sora_tensor sora_detach(sora_tensor t);
SORA_API int32_t sora_detach_(sora_tensor t);
SORA_API int32_t sora_grad_enabled(void);
SORA_API void sora_set_grad_enabled(int32_t enabled);

/* Called with the incoming gradient. May write a replacement gradient handle into *replacement
 * (owned by the callee side afterwards) or leave it NULL. Returns 0, or nonzero after calling
 * sora_set_callback_error to abort backward. */
typedef int32_t (*sora_grad_hook_fn)(int64_t context, sora_tensor grad, sora_tensor* replacement);
/* Called after a leaf's .grad has been accumulated in backward; param is a new handle to the leaf
 * that the callee owns. Returns 0, or nonzero after sora_set_callback_error. */
typedef int32_t (*sora_post_accumulate_fn)(int64_t context, sora_tensor param);

SORA_API sora_hook sora_register_grad_hook(sora_tensor t, sora_grad_hook_fn fn, int64_t context);
SORA_API sora_hook sora_register_post_accumulate_hook(sora_tensor leaf, sora_post_accumulate_fn fn, int64_t context);
/* Removes the hook and frees the handle. */
SORA_API void sora_hook_dispose(sora_hook h);

#endif

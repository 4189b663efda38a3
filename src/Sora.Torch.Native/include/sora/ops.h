/* Tensor operations: elementwise families (dispatched by op code), linear algebra,
 * shape and indexing, reductions. Every result is a new handle owned by the caller. */
#ifndef SORA_OPS_H
#define SORA_OPS_H

#include "sora/common.h"

/* Codes mirrored by Sora.Torch.Native.UnaryOp. */
enum sora_unary_op {
  SORA_NEG = 0, SORA_ABS, SORA_EXP, SORA_LOG, SORA_SQRT, SORA_RSQRT, SORA_SIN, SORA_COS, SORA_TANH,
  SORA_SIGMOID, SORA_RELU, SORA_SILU, SORA_GELU, SORA_GELU_TANH, SORA_SQUARE, SORA_SIGN, SORA_FLOOR,
  SORA_CEIL, SORA_ROUND, SORA_RECIPROCAL, SORA_LOGICAL_NOT, SORA_ERF, SORA_LOG1P, SORA_EXPM1,
  SORA_ISNAN, SORA_ISFINITE, SORA_ERFINV, SORA_UNARY_COUNT
};

/* Codes mirrored by Sora.Torch.Native.BinaryOp. The R* codes take the scalar on the left. */
enum sora_binary_op {
  SORA_ADD = 0, SORA_SUB, SORA_MUL, SORA_DIV, SORA_POW, SORA_MAXIMUM, SORA_MINIMUM,
  SORA_EQ, SORA_NE, SORA_LT, SORA_LE, SORA_GT, SORA_GE, SORA_LOGICAL_AND, SORA_LOGICAL_OR,
  SORA_REMAINDER, SORA_FLOOR_DIVIDE, SORA_ATAN2, SORA_RSUB, SORA_RDIV, SORA_RPOW, SORA_BINARY_COUNT
};

SORA_API sora_tensor sora_unary(sora_tensor t, int32_t op);
SORA_API int32_t sora_unary_(sora_tensor t, int32_t op);
SORA_API sora_tensor sora_binary(sora_tensor a, sora_tensor b, int32_t op);
SORA_API int32_t sora_binary_(sora_tensor a, sora_tensor b, int32_t op);
SORA_API sora_tensor sora_binary_scalar(sora_tensor a, sora_scalar b, int32_t op);
SORA_API int32_t sora_binary_scalar_(sora_tensor a, sora_scalar b, int32_t op);

SORA_API int32_t sora_add_scaled_(sora_tensor t, sora_tensor other, sora_scalar alpha);
SORA_API int32_t sora_lerp_(sora_tensor t, sora_tensor end, sora_scalar weight);
SORA_API int32_t sora_addcmul_(sora_tensor t, sora_tensor a, sora_tensor b, sora_scalar value);
SORA_API int32_t sora_addcdiv_(sora_tensor t, sora_tensor a, sora_tensor b, sora_scalar value);
/* has_min/has_max select which bounds apply. */
SORA_API sora_tensor sora_clamp(sora_tensor t, sora_scalar min, int32_t has_min, sora_scalar max, int32_t has_max);
SORA_API int32_t sora_clamp_(sora_tensor t, sora_scalar min, int32_t has_min, sora_scalar max, int32_t has_max);
SORA_API sora_tensor sora_where(sora_tensor condition, sora_tensor a, sora_tensor b);
SORA_API sora_tensor sora_masked_fill(sora_tensor t, sora_tensor mask, sora_scalar value);
SORA_API int32_t sora_masked_fill_(sora_tensor t, sora_tensor mask, sora_scalar value);
/* 1 when same shape and elements (bitwise for floats except NaN), 0 otherwise, -1 on error. */
SORA_API int32_t sora_equal(sora_tensor a, sora_tensor b);
SORA_API int32_t sora_allclose(sora_tensor a, sora_tensor b, double rtol, double atol);

SORA_API sora_tensor sora_softmax(sora_tensor t, int64_t dim);
SORA_API sora_tensor sora_log_softmax(sora_tensor t, int64_t dim);

SORA_API sora_tensor sora_matmul(sora_tensor a, sora_tensor b);
SORA_API sora_tensor sora_mm(sora_tensor a, sora_tensor b);
SORA_API int32_t sora_mm_out(sora_tensor out, sora_tensor a, sora_tensor b);
SORA_API sora_tensor sora_bmm(sora_tensor a, sora_tensor b);
SORA_API sora_tensor sora_addmm(sora_tensor input, sora_tensor a, sora_tensor b, sora_scalar beta, sora_scalar alpha);
SORA_API sora_tensor sora_baddbmm(sora_tensor input, sora_tensor a, sora_tensor b, sora_scalar beta, sora_scalar alpha);
/* bias may be NULL. */
SORA_API sora_tensor sora_linear(sora_tensor input, sora_tensor weight, sora_tensor bias);

SORA_API sora_tensor sora_reshape(sora_tensor t, const int64_t* shape, int32_t ndim);
SORA_API sora_tensor sora_view(sora_tensor t, const int64_t* shape, int32_t ndim);
SORA_API sora_tensor sora_permute(sora_tensor t, const int64_t* dims, int32_t ndim);
SORA_API sora_tensor sora_transpose(sora_tensor t, int64_t dim0, int64_t dim1);
SORA_API sora_tensor sora_narrow(sora_tensor t, int64_t dim, int64_t start, int64_t length);
SORA_API sora_tensor sora_select(sora_tensor t, int64_t dim, int64_t index);
SORA_API sora_tensor sora_index_select(sora_tensor t, int64_t dim, sora_tensor index);
SORA_API sora_tensor sora_gather(sora_tensor t, int64_t dim, sora_tensor index);
SORA_API sora_tensor sora_scatter(sora_tensor t, int64_t dim, sora_tensor index, sora_tensor src);
SORA_API sora_tensor sora_scatter_add(sora_tensor t, int64_t dim, sora_tensor index, sora_tensor src);
SORA_API sora_tensor sora_cat(const sora_tensor* tensors, int32_t count, int64_t dim);
SORA_API sora_tensor sora_stack(const sora_tensor* tensors, int32_t count, int64_t dim);
/* Write up to capacity handles into out; return how many pieces there are. */
SORA_API int32_t sora_chunk(sora_tensor t, int64_t chunks, int64_t dim, sora_tensor* out, int32_t capacity);
SORA_API int32_t sora_split(sora_tensor t, const int64_t* sizes, int32_t count, int64_t dim, sora_tensor* out, int32_t capacity);
SORA_API sora_tensor sora_flatten(sora_tensor t, int64_t start_dim, int64_t end_dim);
SORA_API sora_tensor sora_unflatten(sora_tensor t, int64_t dim, const int64_t* sizes, int32_t count);
SORA_API sora_tensor sora_expand(sora_tensor t, const int64_t* shape, int32_t ndim);
SORA_API sora_tensor sora_repeat(sora_tensor t, const int64_t* repeats, int32_t ndim);
/* mode: 0 constant, 1 reflect, 2 replicate, 3 circular. pad lists (left,right) pairs from the last dim. */
SORA_API sora_tensor sora_pad(sora_tensor t, const int64_t* pad, int32_t count, int32_t mode, double value);
SORA_API sora_tensor sora_squeeze(sora_tensor t, int64_t dim);
SORA_API sora_tensor sora_unsqueeze(sora_tensor t, int64_t dim);
SORA_API sora_tensor sora_tril(sora_tensor t, int64_t diagonal);
SORA_API sora_tensor sora_triu(sora_tensor t, int64_t diagonal);
SORA_API sora_tensor sora_flip(sora_tensor t, const int64_t* dims, int32_t count);
SORA_API sora_tensor sora_roll(sora_tensor t, const int64_t* shifts, int32_t count, const int64_t* dims, int32_t dim_count);
SORA_API sora_tensor sora_cumsum(sora_tensor t, int64_t dim);
SORA_API sora_tensor sora_block_diag(const sora_tensor* tensors, int32_t count);

/* Reductions over dims (count 0 = all dims). */
SORA_API sora_tensor sora_sum(sora_tensor t, const int64_t* dims, int32_t count, int32_t keepdim);
SORA_API sora_tensor sora_mean(sora_tensor t, const int64_t* dims, int32_t count, int32_t keepdim);
SORA_API sora_tensor sora_var(sora_tensor t, const int64_t* dims, int32_t count, int32_t unbiased, int32_t keepdim);
SORA_API sora_tensor sora_amax(sora_tensor t, const int64_t* dims, int32_t count, int32_t keepdim);
SORA_API sora_tensor sora_amin(sora_tensor t, const int64_t* dims, int32_t count, int32_t keepdim);
SORA_API sora_tensor sora_norm(sora_tensor t, double p, const int64_t* dims, int32_t count, int32_t keepdim);
SORA_API sora_tensor sora_logsumexp(sora_tensor t, const int64_t* dims, int32_t count, int32_t keepdim);
/* Values and indices along one dim. */
SORA_API int32_t sora_max_dim(sora_tensor t, int64_t dim, int32_t keepdim, sora_tensor* values, sora_tensor* indices);
SORA_API int32_t sora_min_dim(sora_tensor t, int64_t dim, int32_t keepdim, sora_tensor* values, sora_tensor* indices);
/* has_dim 0 = over the flattened tensor. */
SORA_API sora_tensor sora_argmax(sora_tensor t, int64_t dim, int32_t has_dim, int32_t keepdim);
SORA_API sora_tensor sora_argmin(sora_tensor t, int64_t dim, int32_t has_dim, int32_t keepdim);

/* reduction: 0 none, 1 mean, 2 sum. */
SORA_API sora_tensor sora_mse_loss(sora_tensor input, sora_tensor target, int32_t reduction);

#endif

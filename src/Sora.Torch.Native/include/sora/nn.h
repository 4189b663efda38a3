/* Neural-network functions: normalisation, convolution, resampling, dropout, embedding. */
#ifndef SORA_NN_H
#define SORA_NN_H

#include "sora/common.h"

/* weight and bias may be NULL. */
SORA_API sora_tensor sora_layer_norm(sora_tensor input, const int64_t* normalized_shape, int32_t ndim, sora_tensor weight, sora_tensor bias, double eps);
SORA_API sora_tensor sora_group_norm(sora_tensor input, int64_t groups, sora_tensor weight, sora_tensor bias, double eps);

/* stride/padding/dilation hold 2 (conv2d) or 3 (conv3d) values. */
SORA_API sora_tensor sora_conv2d(sora_tensor input, sora_tensor weight, sora_tensor bias, const int64_t* stride, const int64_t* padding,
                                 const int64_t* dilation, int64_t groups);
SORA_API sora_tensor sora_conv3d(sora_tensor input, sora_tensor weight, sora_tensor bias, const int64_t* stride, const int64_t* padding,
                                 const int64_t* dilation, int64_t groups);
SORA_API sora_tensor sora_conv_transpose3d(sora_tensor input, sora_tensor weight, sora_tensor bias, const int64_t* stride,
                                           const int64_t* padding, const int64_t* output_padding, int64_t groups, const int64_t* dilation);

/* Resize to output_size (count = spatial dims: 1, 2 or 3). mode: 0 nearest, 1 linear/bilinear/trilinear. */
SORA_API sora_tensor sora_interpolate(sora_tensor input, const int64_t* output_size, int32_t count, int32_t mode, int32_t align_corners);

SORA_API sora_tensor sora_dropout(sora_tensor input, double p, int32_t train);
SORA_API sora_tensor sora_embedding(sora_tensor weight, sora_tensor indices);

/* Attention over (..., L, D) queries and (..., S, D) keys/values; mask (bool, true = attend) or
 * additive float mask broadcastable to (..., L, S), may be NULL. Composite of differentiable ops. */
SORA_API sora_tensor sora_attention(sora_tensor q, sora_tensor k, sora_tensor v, sora_tensor mask, double scale);

#endif

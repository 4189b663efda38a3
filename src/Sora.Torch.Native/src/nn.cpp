// Neural-network functions over ATen.
#include "internal.h"
#include "sora/nn.h"

using sora::T;

namespace {
at::IntArrayRef fixed(const int64_t* values, int32_t n, const char* name) {
  if (values == nullptr) throw sora::argument_error(std::string(name) + " is null");
  return at::IntArrayRef(values, static_cast<size_t>(n));
}

at::Tensor interpolate(const at::Tensor& x, at::IntArrayRef size, int32_t mode, bool align_corners) {
  const auto spatial = static_cast<int64_t>(size.size());
  if (x.dim() != spatial + 2) {
    throw sora::argument_error("interpolate: input has " + std::to_string(x.dim()) + " dims but " + std::to_string(spatial) +
                               " output sizes were given (expected input of " + std::to_string(spatial + 2) + " dims: N, C, spatial...)");
  }
  if (mode == 0) {
    switch (spatial) {
      case 1: return at::upsample_nearest1d(x, size);
      case 2: return at::upsample_nearest2d(x, size);
      case 3: return at::upsample_nearest3d(x, size);
      default: break;
    }
  } else if (mode == 1) {
    switch (spatial) {
      case 1: return at::upsample_linear1d(x, size, align_corners);
      case 2: return at::upsample_bilinear2d(x, size, align_corners);
      case 3: return at::upsample_trilinear3d(x, size, align_corners);
      default: break;
    }
  } else {
    throw sora::argument_error("interpolate: unknown mode " + std::to_string(mode));
  }
  throw sora::argument_error("interpolate: " + std::to_string(spatial) + " spatial dims are not supported (1 to 3)");
}
}  // namespace

SORA_API sora_tensor sora_layer_norm(sora_tensor input, const int64_t* normalized_shape, int32_t ndim, sora_tensor weight, sora_tensor bias,
                                     double eps) {
  SORA_TENSOR_RESULT(at::layer_norm(T(input), sora::dims(normalized_shape, ndim), sora::opt(weight), sora::opt(bias), eps))
}

SORA_API sora_tensor sora_group_norm(sora_tensor input, int64_t groups, sora_tensor weight, sora_tensor bias, double eps) {
  SORA_TENSOR_RESULT(at::group_norm(T(input), groups, sora::opt(weight), sora::opt(bias), eps))
}

SORA_API sora_tensor sora_conv2d(sora_tensor input, sora_tensor weight, sora_tensor bias, const int64_t* stride, const int64_t* padding,
                                 const int64_t* dilation, int64_t groups) {
  SORA_TENSOR_RESULT(at::conv2d(T(input), T(weight), sora::opt(bias), fixed(stride, 2, "stride"), fixed(padding, 2, "padding"),
                                fixed(dilation, 2, "dilation"), groups))
}

SORA_API sora_tensor sora_conv3d(sora_tensor input, sora_tensor weight, sora_tensor bias, const int64_t* stride, const int64_t* padding,
                                 const int64_t* dilation, int64_t groups) {
  SORA_TENSOR_RESULT(at::conv3d(T(input), T(weight), sora::opt(bias), fixed(stride, 3, "stride"), fixed(padding, 3, "padding"),
                                fixed(dilation, 3, "dilation"), groups))
}

SORA_API sora_tensor sora_conv_transpose3d(sora_tensor input, sora_tensor weight, sora_tensor bias, const int64_t* stride,
                                           const int64_t* padding, const int64_t* output_padding, int64_t groups, const int64_t* dilation) {
  SORA_TENSOR_RESULT(at::conv_transpose3d(T(input), T(weight), sora::opt(bias), fixed(stride, 3, "stride"), fixed(padding, 3, "padding"),
                                          fixed(output_padding, 3, "output_padding"), groups, fixed(dilation, 3, "dilation")))
}

SORA_API sora_tensor sora_interpolate(sora_tensor input, const int64_t* output_size, int32_t count, int32_t mode, int32_t align_corners) {
  SORA_TENSOR_RESULT(interpolate(T(input), sora::dims(output_size, count), mode, align_corners != 0))
}

SORA_API sora_tensor sora_dropout(sora_tensor input, double p, int32_t train) { SORA_TENSOR_RESULT(at::dropout(T(input), p, train != 0)) }

SORA_API sora_tensor sora_embedding(sora_tensor weight, sora_tensor indices) { SORA_TENSOR_RESULT(at::embedding(T(weight), T(indices))) }


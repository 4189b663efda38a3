// Tensor operations. Elementwise families dispatch on an op code so that one checked path
// serves each family; structured ops have one export each.
#include "internal.h"
#include "sora/ops.h"

namespace {
using sora::T;

at::Tensor unary(const at::Tensor& t, int32_t op) {
  switch (op) {
    case SORA_NEG: return at::neg(t);
    case SORA_ABS: return at::abs(t);
    case SORA_EXP: return at::exp(t);
    case SORA_LOG: return at::log(t);
    case SORA_SQRT: return at::sqrt(t);
    case SORA_RSQRT: return at::rsqrt(t);
    case SORA_SIN: return at::sin(t);
    case SORA_COS: return at::cos(t);
    case SORA_TANH: return at::tanh(t);
    case SORA_SIGMOID: return at::sigmoid(t);
    case SORA_RELU: return at::relu(t);
    case SORA_SILU: return at::silu(t);
    case SORA_GELU: return at::gelu(t, "none");
    case SORA_GELU_TANH: return at::gelu(t, "tanh");
    case SORA_SQUARE: return at::square(t);
    case SORA_SIGN: return at::sign(t);
    case SORA_FLOOR: return at::floor(t);
    case SORA_CEIL: return at::ceil(t);
    case SORA_ROUND: return at::round(t);
    case SORA_RECIPROCAL: return at::reciprocal(t);
    case SORA_LOGICAL_NOT: return at::logical_not(t);
    case SORA_ERF: return at::erf(t);
    case SORA_LOG1P: return at::log1p(t);
    case SORA_EXPM1: return at::expm1(t);
    case SORA_ISNAN: return at::isnan(t);
    case SORA_ISFINITE: return at::isfinite(t);
    case SORA_ERFINV: return at::erfinv(t);
    default: throw sora::argument_error("unknown unary op code " + std::to_string(op));
  }
}

void unary_(at::Tensor& t, int32_t op) {
  switch (op) {
    case SORA_NEG: t.neg_(); return;
    case SORA_ABS: t.abs_(); return;
    case SORA_EXP: t.exp_(); return;
    case SORA_LOG: t.log_(); return;
    case SORA_SQRT: t.sqrt_(); return;
    case SORA_RSQRT: t.rsqrt_(); return;
    case SORA_SIN: t.sin_(); return;
    case SORA_COS: t.cos_(); return;
    case SORA_TANH: t.tanh_(); return;
    case SORA_SIGMOID: t.sigmoid_(); return;
    case SORA_RELU: t.relu_(); return;
    case SORA_SILU: at::silu_(t); return;
    case SORA_SQUARE: t.square_(); return;
    case SORA_SIGN: t.sign_(); return;
    case SORA_FLOOR: t.floor_(); return;
    case SORA_CEIL: t.ceil_(); return;
    case SORA_ROUND: t.round_(); return;
    case SORA_RECIPROCAL: t.reciprocal_(); return;
    case SORA_LOGICAL_NOT: t.logical_not_(); return;
    case SORA_ERF: t.erf_(); return;
    case SORA_LOG1P: t.log1p_(); return;
    case SORA_EXPM1: t.expm1_(); return;
    case SORA_ERFINV: t.erfinv_(); return;
    default: throw sora::argument_error("unary op code " + std::to_string(op) + " has no in-place form");
  }
}

at::Tensor binary(const at::Tensor& a, const at::Tensor& b, int32_t op) {
  switch (op) {
    case SORA_ADD: return at::add(a, b);
    case SORA_SUB: return at::sub(a, b);
    case SORA_MUL: return at::mul(a, b);
    case SORA_DIV: return at::div(a, b);
    case SORA_POW: return at::pow(a, b);
    case SORA_MAXIMUM: return at::maximum(a, b);
    case SORA_MINIMUM: return at::minimum(a, b);
    case SORA_EQ: return at::eq(a, b);
    case SORA_NE: return at::ne(a, b);
    case SORA_LT: return at::lt(a, b);
    case SORA_LE: return at::le(a, b);
    case SORA_GT: return at::gt(a, b);
    case SORA_GE: return at::ge(a, b);
    case SORA_LOGICAL_AND: return at::logical_and(a, b);
    case SORA_LOGICAL_OR: return at::logical_or(a, b);
    case SORA_REMAINDER: return at::remainder(a, b);
    case SORA_FLOOR_DIVIDE: return at::floor_divide(a, b);
    case SORA_ATAN2: return at::atan2(a, b);
    case SORA_RSUB: return at::sub(b, a);
    case SORA_RDIV: return at::div(b, a);
    case SORA_RPOW: return at::pow(b, a);
    default: throw sora::argument_error("unknown binary op code " + std::to_string(op));
  }
}

void binary_(at::Tensor& a, const at::Tensor& b, int32_t op) {
  switch (op) {
    case SORA_ADD: a.add_(b); return;
    case SORA_SUB: a.sub_(b); return;
    case SORA_MUL: a.mul_(b); return;
    case SORA_DIV: a.div_(b); return;
    case SORA_POW: a.pow_(b); return;
    case SORA_REMAINDER: a.remainder_(b); return;
    case SORA_FLOOR_DIVIDE: a.floor_divide_(b); return;
    case SORA_ATAN2: a.atan2_(b); return;
    // maximum(a, b) saves a for backward, so copying its result back into a would invalidate
    // the saved tensor; the tensor forms of clamp_min_/clamp_max_ are the autograd-aware in-place ops.
    case SORA_MAXIMUM: a.clamp_min_(b); return;
    case SORA_MINIMUM: a.clamp_max_(b); return;
    default: throw sora::argument_error("binary op code " + std::to_string(op) + " has no in-place form");
  }
}

at::Tensor binary_scalar(const at::Tensor& a, const at::Scalar& s, int32_t op) {
  switch (op) {
    case SORA_ADD: return at::add(a, s);
    case SORA_SUB: return at::sub(a, s);
    case SORA_MUL: return at::mul(a, s);
    case SORA_DIV: return at::div(a, s);
    case SORA_POW: return at::pow(a, s);
    case SORA_MAXIMUM: return at::clamp_min(a, s);
    case SORA_MINIMUM: return at::clamp_max(a, s);
    case SORA_EQ: return at::eq(a, s);
    case SORA_NE: return at::ne(a, s);
    case SORA_LT: return at::lt(a, s);
    case SORA_LE: return at::le(a, s);
    case SORA_GT: return at::gt(a, s);
    case SORA_GE: return at::ge(a, s);
    case SORA_REMAINDER: return at::remainder(a, s);
    case SORA_FLOOR_DIVIDE: return at::floor_divide(a, s);
    case SORA_RSUB: return at::rsub(a, s);
    case SORA_RDIV: return at::mul(at::reciprocal(a), s);
    case SORA_RPOW: return at::pow(s, a);
    default: throw sora::argument_error("binary op code " + std::to_string(op) + " has no tensor-scalar form");
  }
}

void binary_scalar_(at::Tensor& a, const at::Scalar& s, int32_t op) {
  switch (op) {
    case SORA_ADD: a.add_(s); return;
    case SORA_SUB: a.sub_(s); return;
    case SORA_MUL: a.mul_(s); return;
    case SORA_DIV: a.div_(s); return;
    case SORA_POW: a.pow_(s); return;
    case SORA_MAXIMUM: a.clamp_min_(s); return;
    case SORA_MINIMUM: a.clamp_max_(s); return;
    case SORA_REMAINDER: a.remainder_(s); return;
    case SORA_FLOOR_DIVIDE: a.floor_divide_(s); return;
    default: throw sora::argument_error("binary op code " + std::to_string(op) + " has no in-place tensor-scalar form");
  }
}

c10::optional<at::Scalar> bound(const sora_scalar& s, int32_t present) {
  if (present == 0) return c10::nullopt;
  return sora::scalar(s);
}

// Reductions take "no dims" to mean "all dims".
at::IntArrayRef reduce_dims(const at::Tensor& t, const int64_t* dims, int32_t count, std::vector<int64_t>& storage) {
  if (count > 0) return sora::dims(dims, count);
  storage.resize(static_cast<size_t>(t.dim()));
  for (int64_t i = 0; i < t.dim(); ++i) storage[static_cast<size_t>(i)] = i;
  return storage;
}

at::Reduction::Reduction reduction(int32_t code) {
  switch (code) {
    case 0: return at::Reduction::None;
    case 1: return at::Reduction::Mean;
    case 2: return at::Reduction::Sum;
    default: throw sora::argument_error("unknown reduction code " + std::to_string(code));
  }
}

int32_t pieces_out(const std::vector<at::Tensor>& pieces, sora_tensor* out, int32_t capacity) {
  sora::handles_out(pieces, out, capacity);
  return static_cast<int32_t>(pieces.size());
}

std::string pad_mode(int32_t mode) {
  switch (mode) {
    case 0: return "constant";
    case 1: return "reflect";
    case 2: return "replicate";
    case 3: return "circular";
    default: throw sora::argument_error("unknown pad mode " + std::to_string(mode));
  }
}
}  // namespace

SORA_API sora_tensor sora_unary(sora_tensor t, int32_t op) { SORA_TENSOR_RESULT(unary(T(t), op)) }
SORA_API int32_t sora_unary_(sora_tensor t, int32_t op) { SORA_STATUS(unary_(T(t), op)) }
SORA_API sora_tensor sora_binary(sora_tensor a, sora_tensor b, int32_t op) { SORA_TENSOR_RESULT(binary(T(a), T(b), op)) }
SORA_API int32_t sora_binary_(sora_tensor a, sora_tensor b, int32_t op) { SORA_STATUS(binary_(T(a), T(b), op)) }
SORA_API sora_tensor sora_binary_scalar(sora_tensor a, sora_scalar b, int32_t op) {
  SORA_TENSOR_RESULT(binary_scalar(T(a), sora::scalar(b), op))
}
SORA_API int32_t sora_binary_scalar_(sora_tensor a, sora_scalar b, int32_t op) { SORA_STATUS(binary_scalar_(T(a), sora::scalar(b), op)) }

SORA_API int32_t sora_add_scaled_(sora_tensor t, sora_tensor other, sora_scalar alpha) {
  SORA_STATUS(T(t).add_(T(other), sora::scalar(alpha)))
}
SORA_API int32_t sora_lerp_(sora_tensor t, sora_tensor end, sora_scalar weight) { SORA_STATUS(T(t).lerp_(T(end), sora::scalar(weight))) }
SORA_API int32_t sora_addcmul_(sora_tensor t, sora_tensor a, sora_tensor b, sora_scalar value) {
  SORA_STATUS(T(t).addcmul_(T(a), T(b), sora::scalar(value)))
}
SORA_API int32_t sora_addcdiv_(sora_tensor t, sora_tensor a, sora_tensor b, sora_scalar value) {
  SORA_STATUS(T(t).addcdiv_(T(a), T(b), sora::scalar(value)))
}
SORA_API sora_tensor sora_clamp(sora_tensor t, sora_scalar min, int32_t has_min, sora_scalar max, int32_t has_max) {
  SORA_TENSOR_RESULT(at::clamp(T(t), bound(min, has_min), bound(max, has_max)))
}
SORA_API int32_t sora_clamp_(sora_tensor t, sora_scalar min, int32_t has_min, sora_scalar max, int32_t has_max) {
  SORA_STATUS(T(t).clamp_(bound(min, has_min), bound(max, has_max)))
}
SORA_API sora_tensor sora_where(sora_tensor condition, sora_tensor a, sora_tensor b) {
  SORA_TENSOR_RESULT(at::where(T(condition), T(a), T(b)))
}
SORA_API sora_tensor sora_masked_fill(sora_tensor t, sora_tensor mask, sora_scalar value) {
  SORA_TENSOR_RESULT(at::masked_fill(T(t), T(mask), sora::scalar(value)))
}
SORA_API int32_t sora_masked_fill_(sora_tensor t, sora_tensor mask, sora_scalar value) {
  SORA_STATUS(T(t).masked_fill_(T(mask), sora::scalar(value)))
}
SORA_API int32_t sora_equal(sora_tensor a, sora_tensor b) {
  try {
    const auto& x = T(a);
    const auto& y = T(b);
    if (x.sizes() != y.sizes() || x.scalar_type() != y.scalar_type()) return 0;
    return at::equal(x, y) ? 1 : 0;
  }
  SORA_CATCH(-1)
}
SORA_API int32_t sora_allclose(sora_tensor a, sora_tensor b, double rtol, double atol) { SORA_VALUE(at::allclose(T(a), T(b), rtol, atol) ? 1 : 0, -1) }

SORA_API sora_tensor sora_softmax(sora_tensor t, int64_t dim) { SORA_TENSOR_RESULT(at::softmax(T(t), dim)) }
SORA_API sora_tensor sora_log_softmax(sora_tensor t, int64_t dim) { SORA_TENSOR_RESULT(at::log_softmax(T(t), dim)) }

SORA_API sora_tensor sora_matmul(sora_tensor a, sora_tensor b) { SORA_TENSOR_RESULT(at::matmul(T(a), T(b))) }
SORA_API sora_tensor sora_mm(sora_tensor a, sora_tensor b) { SORA_TENSOR_RESULT(at::mm(T(a), T(b))) }
SORA_API int32_t sora_mm_out(sora_tensor out, sora_tensor a, sora_tensor b) { SORA_STATUS(at::mm_out(T(out), T(a), T(b))) }
SORA_API sora_tensor sora_bmm(sora_tensor a, sora_tensor b) { SORA_TENSOR_RESULT(at::bmm(T(a), T(b))) }
SORA_API sora_tensor sora_addmm(sora_tensor input, sora_tensor a, sora_tensor b, sora_scalar beta, sora_scalar alpha) {
  SORA_TENSOR_RESULT(at::addmm(T(input), T(a), T(b), sora::scalar(beta), sora::scalar(alpha)))
}
SORA_API sora_tensor sora_baddbmm(sora_tensor input, sora_tensor a, sora_tensor b, sora_scalar beta, sora_scalar alpha) {
  SORA_TENSOR_RESULT(at::baddbmm(T(input), T(a), T(b), sora::scalar(beta), sora::scalar(alpha)))
}
SORA_API sora_tensor sora_linear(sora_tensor input, sora_tensor weight, sora_tensor bias) {
  SORA_TENSOR_RESULT(at::linear(T(input), T(weight), sora::opt(bias)))
}

SORA_API sora_tensor sora_reshape(sora_tensor t, const int64_t* shape, int32_t ndim) {
  SORA_TENSOR_RESULT(T(t).reshape(sora::dims(shape, ndim)))
}
SORA_API sora_tensor sora_view(sora_tensor t, const int64_t* shape, int32_t ndim) { SORA_TENSOR_RESULT(T(t).view(sora::dims(shape, ndim))) }
SORA_API sora_tensor sora_permute(sora_tensor t, const int64_t* dims, int32_t ndim) {
  SORA_TENSOR_RESULT(T(t).permute(sora::dims(dims, ndim)))
}
SORA_API sora_tensor sora_transpose(sora_tensor t, int64_t dim0, int64_t dim1) { SORA_TENSOR_RESULT(T(t).transpose(dim0, dim1)) }
SORA_API sora_tensor sora_narrow(sora_tensor t, int64_t dim, int64_t start, int64_t length) {
  SORA_TENSOR_RESULT(T(t).narrow(dim, start, length))
}
SORA_API sora_tensor sora_select(sora_tensor t, int64_t dim, int64_t index) { SORA_TENSOR_RESULT(T(t).select(dim, index)) }
SORA_API sora_tensor sora_index_select(sora_tensor t, int64_t dim, sora_tensor index) {
  SORA_TENSOR_RESULT(at::index_select(T(t), dim, T(index)))
}
SORA_API sora_tensor sora_gather(sora_tensor t, int64_t dim, sora_tensor index) { SORA_TENSOR_RESULT(at::gather(T(t), dim, T(index))) }
SORA_API sora_tensor sora_scatter(sora_tensor t, int64_t dim, sora_tensor index, sora_tensor src) {
  SORA_TENSOR_RESULT(at::scatter(T(t), dim, T(index), T(src)))
}
SORA_API sora_tensor sora_scatter_add(sora_tensor t, int64_t dim, sora_tensor index, sora_tensor src) {
  SORA_TENSOR_RESULT(at::scatter_add(T(t), dim, T(index), T(src)))
}
SORA_API sora_tensor sora_cat(const sora_tensor* tensors, int32_t count, int64_t dim) {
  SORA_TENSOR_RESULT(at::cat(sora::tensors(tensors, count), dim))
}
SORA_API sora_tensor sora_stack(const sora_tensor* tensors, int32_t count, int64_t dim) {
  SORA_TENSOR_RESULT(at::stack(sora::tensors(tensors, count), dim))
}
SORA_API int32_t sora_chunk(sora_tensor t, int64_t chunks, int64_t dim, sora_tensor* out, int32_t capacity) { SORA_VALUE(pieces_out(T(t).chunk(chunks, dim), out, capacity), -1) }
SORA_API int32_t sora_split(sora_tensor t, const int64_t* sizes, int32_t count, int64_t dim, sora_tensor* out, int32_t capacity) { SORA_VALUE(pieces_out(T(t).split_with_sizes(sora::dims(sizes, count), dim), out, capacity), -1) }
SORA_API sora_tensor sora_flatten(sora_tensor t, int64_t start_dim, int64_t end_dim) {
  SORA_TENSOR_RESULT(T(t).flatten(start_dim, end_dim))
}
SORA_API sora_tensor sora_unflatten(sora_tensor t, int64_t dim, const int64_t* sizes, int32_t count) {
  try {
    // Spelled out with view: unflatten's signature differs between libtorch 1.13 and 2.x.
    const auto& x = T(t);
    const auto d = c10::maybe_wrap_dim(dim, x.dim());
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + d);
    const auto inner = sora::dims(sizes, count);
    shape.insert(shape.end(), inner.begin(), inner.end());
    shape.insert(shape.end(), x.sizes().begin() + d + 1, x.sizes().end());
    return sora::wrap(x.reshape(shape));
  }
  SORA_CATCH(nullptr)
}
SORA_API sora_tensor sora_expand(sora_tensor t, const int64_t* shape, int32_t ndim) {
  SORA_TENSOR_RESULT(T(t).expand(sora::dims(shape, ndim)))
}
SORA_API sora_tensor sora_repeat(sora_tensor t, const int64_t* repeats, int32_t ndim) {
  SORA_TENSOR_RESULT(T(t).repeat(sora::dims(repeats, ndim)))
}
SORA_API sora_tensor sora_pad(sora_tensor t, const int64_t* pad, int32_t count, int32_t mode, double value) {
  try {
    const auto m = pad_mode(mode);
    if (mode == 0) return sora::wrap(at::constant_pad_nd(T(t), sora::dims(pad, count), value));
    return sora::wrap(at::pad(T(t), sora::dims(pad, count), m, c10::nullopt));
  }
  SORA_CATCH(nullptr)
}
SORA_API sora_tensor sora_squeeze(sora_tensor t, int64_t dim) { SORA_TENSOR_RESULT(T(t).squeeze(dim)) }
SORA_API sora_tensor sora_unsqueeze(sora_tensor t, int64_t dim) { SORA_TENSOR_RESULT(T(t).unsqueeze(dim)) }
SORA_API sora_tensor sora_tril(sora_tensor t, int64_t diagonal) { SORA_TENSOR_RESULT(at::tril(T(t), diagonal)) }
SORA_API sora_tensor sora_triu(sora_tensor t, int64_t diagonal) { SORA_TENSOR_RESULT(at::triu(T(t), diagonal)) }
SORA_API sora_tensor sora_flip(sora_tensor t, const int64_t* dims, int32_t count) { SORA_TENSOR_RESULT(at::flip(T(t), sora::dims(dims, count))) }
SORA_API sora_tensor sora_roll(sora_tensor t, const int64_t* shifts, int32_t count, const int64_t* dims, int32_t dim_count) {
  SORA_TENSOR_RESULT(at::roll(T(t), sora::dims(shifts, count), sora::dims(dims, dim_count)))
}
SORA_API sora_tensor sora_cumsum(sora_tensor t, int64_t dim) { SORA_TENSOR_RESULT(at::cumsum(T(t), dim)) }
SORA_API sora_tensor sora_block_diag(const sora_tensor* tensors, int32_t count) {
  SORA_TENSOR_RESULT(at::block_diag(sora::tensors(tensors, count)))
}

SORA_API sora_tensor sora_sum(sora_tensor t, const int64_t* dims, int32_t count, int32_t keepdim) {
  try {
    if (count == 0 && keepdim == 0) return sora::wrap(at::sum(T(t)));
    std::vector<int64_t> storage;
    return sora::wrap(at::sum(T(t), reduce_dims(T(t), dims, count, storage), keepdim != 0));
  }
  SORA_CATCH(nullptr)
}
SORA_API sora_tensor sora_mean(sora_tensor t, const int64_t* dims, int32_t count, int32_t keepdim) {
  try {
    if (count == 0 && keepdim == 0) return sora::wrap(at::mean(T(t)));
    std::vector<int64_t> storage;
    return sora::wrap(at::mean(T(t), reduce_dims(T(t), dims, count, storage), keepdim != 0));
  }
  SORA_CATCH(nullptr)
}
SORA_API sora_tensor sora_var(sora_tensor t, const int64_t* dims, int32_t count, int32_t unbiased, int32_t keepdim) {
  try {
    std::vector<int64_t> storage;
    return sora::wrap(at::var(T(t), reduce_dims(T(t), dims, count, storage), unbiased != 0, keepdim != 0));
  }
  SORA_CATCH(nullptr)
}
SORA_API sora_tensor sora_amax(sora_tensor t, const int64_t* dims, int32_t count, int32_t keepdim) {
  try {
    std::vector<int64_t> storage;
    return sora::wrap(at::amax(T(t), reduce_dims(T(t), dims, count, storage), keepdim != 0));
  }
  SORA_CATCH(nullptr)
}
SORA_API sora_tensor sora_amin(sora_tensor t, const int64_t* dims, int32_t count, int32_t keepdim) {
  try {
    std::vector<int64_t> storage;
    return sora::wrap(at::amin(T(t), reduce_dims(T(t), dims, count, storage), keepdim != 0));
  }
  SORA_CATCH(nullptr)
}
SORA_API sora_tensor sora_norm(sora_tensor t, double p, const int64_t* dims, int32_t count, int32_t keepdim) {
  try {
    std::vector<int64_t> storage;
    return sora::wrap(at::norm(T(t), at::Scalar(p), reduce_dims(T(t), dims, count, storage), keepdim != 0));
  }
  SORA_CATCH(nullptr)
}
SORA_API sora_tensor sora_logsumexp(sora_tensor t, const int64_t* dims, int32_t count, int32_t keepdim) {
  try {
    std::vector<int64_t> storage;
    return sora::wrap(at::logsumexp(T(t), reduce_dims(T(t), dims, count, storage), keepdim != 0));
  }
  SORA_CATCH(nullptr)
}
SORA_API int32_t sora_max_dim(sora_tensor t, int64_t dim, int32_t keepdim, sora_tensor* values, sora_tensor* indices) {
  SORA_STATUS({
    auto result = at::max(T(t), dim, keepdim != 0);
    *values = sora::wrap(std::get<0>(result));
    *indices = sora::wrap(std::get<1>(result));
  })
}
SORA_API int32_t sora_min_dim(sora_tensor t, int64_t dim, int32_t keepdim, sora_tensor* values, sora_tensor* indices) {
  SORA_STATUS({
    auto result = at::min(T(t), dim, keepdim != 0);
    *values = sora::wrap(std::get<0>(result));
    *indices = sora::wrap(std::get<1>(result));
  })
}
SORA_API sora_tensor sora_argmax(sora_tensor t, int64_t dim, int32_t has_dim, int32_t keepdim) {
  SORA_TENSOR_RESULT(at::argmax(T(t), has_dim != 0 ? c10::optional<int64_t>(dim) : c10::nullopt, keepdim != 0))
}
SORA_API sora_tensor sora_argmin(sora_tensor t, int64_t dim, int32_t has_dim, int32_t keepdim) {
  SORA_TENSOR_RESULT(at::argmin(T(t), has_dim != 0 ? c10::optional<int64_t>(dim) : c10::nullopt, keepdim != 0))
}

SORA_API sora_tensor sora_mse_loss(sora_tensor input, sora_tensor target, int32_t reduction_code) {
  SORA_TENSOR_RESULT(at::mse_loss(T(input), T(target), reduction(reduction_code)))
}

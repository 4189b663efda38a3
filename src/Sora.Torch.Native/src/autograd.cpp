// Autograd bindings and hooks that call back into managed code.
#include "internal.h"
#include "sora/autograd.h"
#include "sora/tensor.h"

using sora::T;

namespace {

// Runs after a leaf's AccumulateGrad node, i.e. once its .grad holds this backward's contribution.
class PostAccumulateHook final : public torch::autograd::FunctionPostHook {
 public:
  PostAccumulateHook(at::Tensor leaf, sora_post_accumulate_fn fn, int64_t context)
      : leaf_(std::move(leaf)), fn_(fn), context_(context) {}

  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    if (fn_(context_, sora::wrap(leaf_)) != 0) throw sora::take_callback_error("post-accumulate gradient hook failed");
    return outputs;
  }

 private:
  at::Tensor leaf_;
  sora_post_accumulate_fn fn_;
  int64_t context_;
};

}  // namespace

struct sora_hook_s {
  at::Tensor tensor;
  // Tensor hooks: position returned by register_hook.
  unsigned tensor_hook = 0;
  bool is_tensor_hook = false;
  // Post-accumulate hooks: the leaf's AccumulateGrad node is held only weakly by the leaf,
  // so the hook owns it to keep its hooks alive between backward passes.
  std::shared_ptr<torch::autograd::Node> accumulator;
  uintptr_t post_hook_key = 0;
};

SORA_API int32_t sora_set_requires_grad(sora_tensor t, int32_t requires_grad) { SORA_STATUS(T(t).set_requires_grad(requires_grad != 0)) }

SORA_API int32_t sora_requires_grad(sora_tensor t) { SORA_VALUE(T(t).requires_grad() ? 1 : 0, -1) }

SORA_API int32_t sora_is_leaf(sora_tensor t) { SORA_VALUE(T(t).is_leaf() ? 1 : 0, -1) }

SORA_API sora_tensor sora_grad(sora_tensor t) {
  try {
    const auto& grad = T(t).grad();
    return grad.defined() ? sora::wrap(grad) : nullptr;
  }
  SORA_CATCH(nullptr)
}

SORA_API int32_t sora_set_grad(sora_tensor t, sora_tensor grad) {
  SORA_STATUS({
    auto& variable = T(t);
    if (grad != nullptr) {
      // The checks torch's Python setter of .grad makes: without them a mismatched gradient is
      // stored as is, and the next backward silently broadcasts into it.
      const auto& g = T(grad);
      TORCH_CHECK(!g.is_same(variable), "can't assign Variable as its own grad");
      TORCH_CHECK(g.options().type_equal(variable.options()), "assigned grad has data of a different type");
      TORCH_CHECK(g.device() == variable.device(), "assigned grad has data located on a different device");
      TORCH_CHECK(g.sizes().equals(variable.sizes()), "assigned grad has data of a different size");
    }
    variable.mutable_grad() = grad == nullptr ? at::Tensor() : T(grad);
  })
}

SORA_API int32_t sora_backward(sora_tensor t, sora_tensor grad, int32_t retain_graph, int32_t create_graph) {
  SORA_STATUS({
    const auto gradient = grad == nullptr ? at::Tensor() : T(grad);
    T(t).backward(gradient, retain_graph != 0 ? c10::optional<bool>(true) : c10::nullopt, create_graph != 0);
  })
}

SORA_API sora_tensor sora_detach(sora_tensor t) { SORA_TENSOR_RESULT(T(t).detach()) }

SORA_API int32_t sora_detach_(sora_tensor t) { SORA_STATUS(T(t).detach_()) }

SORA_API int32_t sora_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }

SORA_API void sora_set_grad_enabled(int32_t enabled) { c10::GradMode::set_enabled(enabled != 0); }

SORA_API sora_hook sora_register_grad_hook(sora_tensor t, sora_grad_hook_fn fn, int64_t context) {
  try {
    if (fn == nullptr) throw sora::argument_error("hook function is null");
    auto& tensor = T(t);
    if (!tensor.requires_grad()) throw sora::argument_error("cannot register a gradient hook on a tensor that does not require grad");
    auto hook = std::make_unique<sora_hook_s>();
    hook->tensor = tensor;
    hook->is_tensor_hook = true;
    hook->tensor_hook = tensor.register_hook([fn, context](const at::Tensor& grad) -> at::Tensor {
      sora_tensor replacement = nullptr;
      if (fn(context, sora::wrap(grad), &replacement) != 0) throw sora::take_callback_error("gradient hook failed");
      if (replacement == nullptr) return at::Tensor();
      at::Tensor result = T(replacement);
      sora_tensor_dispose(replacement);
      return result;
    });
    return hook.release();
  }
  SORA_CATCH(nullptr)
}

SORA_API sora_hook sora_register_post_accumulate_hook(sora_tensor leaf, sora_post_accumulate_fn fn, int64_t context) {
  try {
    if (fn == nullptr) throw sora::argument_error("hook function is null");
    auto& tensor = T(leaf);
    if (!tensor.is_leaf() || !tensor.requires_grad()) {
      throw sora::argument_error("post-accumulate hooks need a leaf tensor that requires grad");
    }
    auto hook = std::make_unique<sora_hook_s>();
    hook->tensor = tensor;
    hook->accumulator = torch::autograd::impl::grad_accumulator(tensor);
    if (!hook->accumulator) throw sora::argument_error("tensor has no gradient accumulator");
    hook->post_hook_key = hook->accumulator->add_post_hook(std::make_unique<PostAccumulateHook>(tensor, fn, context));
    return hook.release();
  }
  SORA_CATCH(nullptr)
}

SORA_API void sora_hook_dispose(sora_hook h) {
  if (h == nullptr) return;
  std::unique_ptr<sora_hook_s> hook(h);
  try {
    if (hook->is_tensor_hook) {
      hook->tensor.remove_hook(hook->tensor_hook);
    } else if (hook->accumulator) {
      hook->accumulator->del_post_hook(hook->post_hook_key);
    }
  } catch (...) {
    sora::record_exception(std::current_exception());
  }
}

using System.Runtime.InteropServices;

namespace Sora.Torch.Native;

internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int sora_set_requires_grad(TensorHandle t, int requiresGrad);
    [LibraryImport(Lib)] internal static partial int sora_requires_grad(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_is_leaf(TensorHandle t);
    [LibraryImport(Lib)] internal static partial IntPtr sora_grad(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_set_grad(TensorHandle t, TensorHandle grad);
    [LibraryImport(Lib)] internal static partial int sora_backward(TensorHandle t, TensorHandle grad, int retainGraph, int createGraph);
    [LibraryImport(Lib)] internal static partial IntPtr sora_detach(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_detach_(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_grad_enabled();
    [LibraryImport(Lib)] internal static partial void sora_set_grad_enabled(int enabled);
    [LibraryImport(Lib)] internal static partial IntPtr sora_register_grad_hook(TensorHandle t, delegate* unmanaged<long, IntPtr, IntPtr*, int> fn, long context);
    [LibraryImport(Lib)] internal static partial IntPtr sora_register_post_accumulate_hook(TensorHandle leaf, delegate* unmanaged<long, IntPtr, int> fn, long context);
    [LibraryImport(Lib)] internal static partial void sora_hook_dispose(IntPtr hook);
}

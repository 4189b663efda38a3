using System.Runtime.InteropServices;

namespace Sora.Torch.Native;

internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int sora_adamw_step(IntPtr* parameters, IntPtr* grads, IntPtr* expAvgs, IntPtr* expAvgSqs, int count, double lr, double beta1, double beta2, double eps, double weightDecay, long step);
    [LibraryImport(Lib)] internal static partial int sora_sgd_step(IntPtr* parameters, IntPtr* grads, IntPtr* momentumBuffers, int count, double lr, double momentum, double dampening, double weightDecay, int nesterov, int firstStep);
    [LibraryImport(Lib)] internal static partial int sora_total_norm(IntPtr* tensors, int count, double p, double* output);
    [LibraryImport(Lib)] internal static partial int sora_scale_(IntPtr* tensors, int count, double factor);
}

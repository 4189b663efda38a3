using System.Runtime.InteropServices;

namespace Sora.Torch.Native;

internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial IntPtr sora_layer_norm(TensorHandle input, long* normalizedShape, int ndim, TensorHandle weight, TensorHandle bias, double eps);
    [LibraryImport(Lib)] internal static partial IntPtr sora_group_norm(TensorHandle input, long groups, TensorHandle weight, TensorHandle bias, double eps);
    [LibraryImport(Lib)] internal static partial IntPtr sora_conv2d(TensorHandle input, TensorHandle weight, TensorHandle bias, long* stride, long* padding, long* dilation, long groups);
    [LibraryImport(Lib)] internal static partial IntPtr sora_conv3d(TensorHandle input, TensorHandle weight, TensorHandle bias, long* stride, long* padding, long* dilation, long groups);
    [LibraryImport(Lib)] internal static partial IntPtr sora_conv_transpose3d(TensorHandle input, TensorHandle weight, TensorHandle bias, long* stride, long* padding, long* outputPadding, long groups, long* dilation);
    [LibraryImport(Lib)] internal static partial IntPtr sora_interpolate(TensorHandle input, long* outputSize, int count, int mode, int alignCorners);
    [LibraryImport(Lib)] internal static partial IntPtr sora_dropout(TensorHandle input, double p, int train);
    [LibraryImport(Lib)] internal static partial IntPtr sora_embedding(TensorHandle weight, TensorHandle indices);
    [LibraryImport(Lib)] internal static partial IntPtr sora_attention(TensorHandle q, TensorHandle k, TensorHandle v, TensorHandle mask, double scale);
}

using System.Runtime.InteropServices;

namespace Sora.Torch.Native;

/// <summary>P/Invoke declarations for the shim; one partial file per C header.</summary>
internal static unsafe partial class NativeMethods
{
    private const string Lib = NativeLibraryLoader.LibraryName;

    [LibraryImport(Lib)] internal static partial int sora_last_error_kind();
    [LibraryImport(Lib)] internal static partial int sora_last_error_message(byte* buf, int capacity);
    [LibraryImport(Lib)] internal static partial void sora_clear_error();
    [LibraryImport(Lib)] internal static partial void sora_set_callback_error(byte* message, long token);
    [LibraryImport(Lib)] internal static partial long sora_last_error_token();

    [LibraryImport(Lib)] internal static partial void sora_tensor_dispose(IntPtr t);
    [LibraryImport(Lib)] internal static partial long sora_tensor_live_count();
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_alias(TensorHandle t);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_empty(long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial int sora_tensor_empty_shared(int count, long* shapes, int* ndims, int* dtypes, IntPtr* output);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_zeros(long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_ones(long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_full(long* shape, int ndim, NativeScalar value, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_arange(NativeScalar start, NativeScalar end, NativeScalar step, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_randn(long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_rand(long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_randint(long low, long high, long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_scalar_tensor(NativeScalar value, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_from_data(void* data, long nbytes, long* shape, int ndim, int dtype);
    [LibraryImport(Lib)] internal static partial int sora_tensor_copy_to(TensorHandle t, void* dst, long nbytes);
    [LibraryImport(Lib)] internal static partial void* sora_tensor_data_ptr(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_tensor_ndim(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_tensor_shape(TensorHandle t, long* output, int capacity);
    [LibraryImport(Lib)] internal static partial int sora_tensor_strides(TensorHandle t, long* output, int capacity);
    [LibraryImport(Lib)] internal static partial long sora_tensor_numel(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_tensor_dtype(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_tensor_device_type(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_tensor_device_index(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_tensor_is_contiguous(TensorHandle t);
    [LibraryImport(Lib)] internal static partial long sora_tensor_storage_offset(TensorHandle t);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_storage_id(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_tensor_item_double(TensorHandle t, double* output);
    [LibraryImport(Lib)] internal static partial int sora_tensor_item_int64(TensorHandle t, long* output);
    [LibraryImport(Lib)] internal static partial int sora_tensor_to_string(TensorHandle t, byte* buf, int capacity);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_to_dtype(TensorHandle t, int dtype);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_to_device(TensorHandle t, int deviceType, int deviceIndex, int nonBlocking);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_pin_memory(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_tensor_is_pinned(TensorHandle t);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_clone(TensorHandle t);
    [LibraryImport(Lib)] internal static partial IntPtr sora_tensor_contiguous(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_tensor_copy_(TensorHandle dst, TensorHandle src);
    [LibraryImport(Lib)] internal static partial int sora_tensor_fill_(TensorHandle t, NativeScalar value);
    [LibraryImport(Lib)] internal static partial int sora_tensor_zero_(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int sora_tensor_uniform_(TensorHandle t, double from, double to);
    [LibraryImport(Lib)] internal static partial int sora_tensor_normal_(TensorHandle t, double mean, double std);
    [LibraryImport(Lib)] internal static partial int sora_tensor_set_data(TensorHandle t, TensorHandle source);
    [LibraryImport(Lib)] internal static partial int sora_tensor_storage_resize(TensorHandle t, long bytes);
    [LibraryImport(Lib)] internal static partial long sora_tensor_storage_nbytes(TensorHandle t);
}

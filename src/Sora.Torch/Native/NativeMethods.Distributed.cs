using System.Runtime.InteropServices;

namespace Sora.Torch.Native;

internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr sora_store_tcp_create(string host, int port, int isServer, int worldSize, int waitForWorkers, long timeoutMs);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr sora_store_prefix_create(string prefix, NativeObjectHandle inner);
    [LibraryImport(Lib)] internal static partial int sora_store_port(NativeObjectHandle store);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial int sora_store_set(NativeObjectHandle store, string key, byte* value, long length);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial long sora_store_get(NativeObjectHandle store, string key, byte* buf, long capacity);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial int sora_store_add(NativeObjectHandle store, string key, long delta, out long result);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial int sora_store_check(NativeObjectHandle store, string key, out int exists);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial int sora_store_delete(NativeObjectHandle store, string key, out int deleted);
    [LibraryImport(Lib)] internal static partial int sora_store_wait(NativeObjectHandle store, IntPtr* keys, int count, long timeoutMs);
    [LibraryImport(Lib)] internal static partial int sora_store_set_timeout(NativeObjectHandle store, long timeoutMs);
    [LibraryImport(Lib)] internal static partial void sora_store_dispose(IntPtr store);
    [LibraryImport(Lib)] internal static partial int sora_backend_available(int backend);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr sora_process_group_create(int backend, NativeObjectHandle store, int rank, int size, string host, long timeoutMs);
    [LibraryImport(Lib)] internal static partial void sora_process_group_dispose(IntPtr group);
    [LibraryImport(Lib)] internal static partial IntPtr sora_all_reduce(NativeObjectHandle group, TensorHandle tensor, int op);
    [LibraryImport(Lib)] internal static partial IntPtr sora_all_reduce_coalesced(NativeObjectHandle group, IntPtr* tensors, int count, int op);
    [LibraryImport(Lib)] internal static partial IntPtr sora_broadcast(NativeObjectHandle group, TensorHandle tensor, int root);
    [LibraryImport(Lib)] internal static partial IntPtr sora_all_gather(NativeObjectHandle group, TensorHandle output, TensorHandle input);
    [LibraryImport(Lib)] internal static partial IntPtr sora_reduce_scatter(NativeObjectHandle group, TensorHandle output, TensorHandle input, int op);
    [LibraryImport(Lib)] internal static partial IntPtr sora_barrier(NativeObjectHandle group);
    [LibraryImport(Lib)] internal static partial int sora_work_wait(NativeObjectHandle work, long timeoutMs);
    [LibraryImport(Lib)] internal static partial int sora_work_is_completed(NativeObjectHandle work);
    [LibraryImport(Lib)] internal static partial void sora_work_dispose(IntPtr work);
}

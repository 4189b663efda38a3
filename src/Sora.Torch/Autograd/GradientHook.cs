using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Sora.Torch.Native;

namespace Sora.Torch.Autograd;

/// <summary>A registered autograd hook that calls into managed code; dispose to remove it.</summary>
public sealed unsafe class GradientHook : IDisposable
{
    // Native code holds an id, not a pointer to a managed object: the registry maps ids back.
    private static readonly ConcurrentDictionary<long, GradientHook> s_registry = new();
    private static long s_nextId;

    private readonly long _id;
    private readonly Func<Tensor, Tensor?>? _gradientHook;
    private readonly Action<Tensor>? _postAccumulateHook;
    private IntPtr _native;

    private GradientHook(Func<Tensor, Tensor?>? gradientHook, Action<Tensor>? postAccumulateHook)
    {
        _id = Interlocked.Increment(ref s_nextId);
        _gradientHook = gradientHook;
        _postAccumulateHook = postAccumulateHook;
        s_registry[_id] = this;
    }

    /// <summary>How many hooks are registered in the process (for leak checks).</summary>
    public static int RegisteredCount => s_registry.Count;

    internal static GradientHook ForGradient(Tensor tensor, Func<Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        var registration = new GradientHook(hook, null);
        registration.Attach(NativeMethods.sora_register_grad_hook(tensor.Handle, &OnGradient, registration._id));
        return registration;
    }

    internal static GradientHook PostAccumulate(Tensor leaf, Action<Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        var registration = new GradientHook(null, hook);
        registration.Attach(NativeMethods.sora_register_post_accumulate_hook(leaf.Handle, &OnPostAccumulate, registration._id));
        return registration;
    }

    public void Dispose()
    {
        var native = Interlocked.Exchange(ref _native, IntPtr.Zero);
        if (native != IntPtr.Zero)
        {
            NativeMethods.sora_hook_dispose(native);
            s_registry.TryRemove(_id, out _);
            NativeError.ThrowIfSet();
        }
    }

    private void Attach(IntPtr native)
    {
        if (native == IntPtr.Zero)
        {
            s_registry.TryRemove(_id, out _);
            throw NativeError.Last();
        }

        _native = native;
    }

    [UnmanagedCallersOnly]
    private static int OnGradient(long id, IntPtr grad, IntPtr* replacement)
    {
        try
        {
            using var gradient = new Tensor(grad, attachToScope: false);
            if (!s_registry.TryGetValue(id, out var hook) || hook._gradientHook is null)
            {
                return 0;
            }

            var result = hook._gradientHook(gradient);
            if (result is not null && !ReferenceEquals(result, gradient))
            {
                *replacement = NativeError.Check(NativeMethods.sora_tensor_alias(result.Handle));
            }

            return 0;
        }
        catch (Exception e)
        {
            NativeError.SetCallbackException(e);
            return 1;
        }
    }

    [UnmanagedCallersOnly]
    private static int OnPostAccumulate(long id, IntPtr param)
    {
        try
        {
            using var parameter = new Tensor(param, attachToScope: false);
            if (s_registry.TryGetValue(id, out var hook) && hook._postAccumulateHook is not null)
            {
                hook._postAccumulateHook(parameter);
            }

            return 0;
        }
        catch (Exception e)
        {
            NativeError.SetCallbackException(e);
            return 1;
        }
    }
}

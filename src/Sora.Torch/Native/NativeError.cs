using System.Collections.Concurrent;
using System.Text;

namespace Sora.Torch.Native;

/// <summary>Turns the shim's thread-local error slot into exceptions.</summary>
internal static unsafe class NativeError
{
    /// <summary>A native call that copies a string into (buf, capacity) and returns its full length.</summary>
    internal delegate int StringReader(byte* buf, int capacity);

    // Managed exceptions thrown inside callbacks from native code (gradient hooks), kept until the
    // native call that ran the callback reports its failure. Keyed by a token rather than held per
    // thread: autograd may run a hook on one of its own threads and report on the caller's.
    private static readonly ConcurrentDictionary<long, Exception> s_callbackExceptions = new();
    private static long s_nextToken;

    internal static IntPtr Check(IntPtr handle) => handle != IntPtr.Zero ? handle : throw Last();

    internal static int Check(int status) => status >= 0 ? status : throw Last();

    internal static long Check(long status) => status >= 0 ? status : throw Last();

    /// <summary>Throws if the last void-returning call left an error.</summary>
    internal static void ThrowIfSet()
    {
        if (NativeMethods.sora_last_error_kind() != 0)
        {
            throw Last();
        }
    }

    internal static TorchException Last()
    {
        var kind = NativeMethods.sora_last_error_kind();
        var message = ReadString(static (buf, capacity) => NativeMethods.sora_last_error_message(buf, capacity));
        var token = NativeMethods.sora_last_error_token();
        NativeMethods.sora_clear_error();
        if (kind == 0)
        {
            return new TorchException(TorchErrorKind.Unknown, "a native call failed without reporting an error");
        }

        if (kind == (int)TorchErrorKind.Callback && s_callbackExceptions.TryRemove(token, out var inner))
        {
            return new TorchException(TorchErrorKind.Callback, message, inner);
        }

        return new TorchException((TorchErrorKind)kind, message.Length > 0 ? message : "libtorch reported an error without a message");
    }

    /// <summary>Records an exception thrown by managed code that native code called.</summary>
    internal static void SetCallbackException(Exception error)
    {
        var token = Interlocked.Increment(ref s_nextToken);
        s_callbackExceptions[token] = error;
        var bytes = Encoding.UTF8.GetBytes(error.GetType().Name + ": " + error.Message + "\0");
        fixed (byte* text = bytes)
        {
            NativeMethods.sora_set_callback_error(text, token);
        }
    }

    /// <summary>Reads a string through the "copy into my buffer, tell me the full length" convention.</summary>
    internal static string ReadString(StringReader read)
    {
        Span<byte> small = stackalloc byte[512];
        int length;
        fixed (byte* buf = small)
        {
            length = read(buf, small.Length);
        }

        if (length < 0)
        {
            throw Last();
        }

        if (length <= small.Length)
        {
            return Encoding.UTF8.GetString(small[..length]);
        }

        var large = new byte[length];
        fixed (byte* buf = large)
        {
            _ = read(buf, large.Length);
        }

        return Encoding.UTF8.GetString(large);
    }
}

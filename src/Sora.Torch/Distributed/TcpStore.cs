using System.Runtime.InteropServices;
using System.Text;
using Sora.Torch.Native;

namespace Sora.Torch.Distributed;

/// <summary>
/// libtorch's c10d TCPStore: the rendezvous key-value store ranks meet through (what torchrun uses).
/// One process hosts the server; every rank (the host included) talks to it as a client.
/// Reads wait for a missing key up to the store's timeout, then fail.
/// </summary>
public sealed unsafe class TcpStore : IDisposable
{
    private readonly NativeObjectHandle _handle;

    private TcpStore(NativeObjectHandle handle, string host, string prefix)
    {
        _handle = handle;
        Host = host;
        Prefix = prefix;
        Port = NativeError.Check(NativeMethods.sora_store_port(handle));
    }

    /// <summary>The server's host as given at creation.</summary>
    public string Host { get; }

    /// <summary>The server's port (the one picked when the server was asked for port 0).</summary>
    public int Port { get; }

    /// <summary>The key prefix of this view ("" for the store itself).</summary>
    public string Prefix { get; }

    internal NativeObjectHandle Handle => _handle.IsClosed ? throw new ObjectDisposedException(nameof(TcpStore)) : _handle;

    /// <summary>Starts a server on <paramref name="host"/>:<paramref name="port"/> (0 picks a free port) and connects to it.</summary>
    public static TcpStore CreateServer(string host, int port, TimeSpan timeout) => Create(host, port, isServer: true, timeout);

    /// <summary>Connects to a server, retrying until <paramref name="timeout"/>.</summary>
    public static TcpStore Connect(string host, int port, TimeSpan timeout) => Create(host, port, isServer: false, timeout);

    /// <summary>A view of this store whose keys are all prefixed with <paramref name="prefix"/> + "/".</summary>
    public TcpStore WithPrefix(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var handle = Call("prefix", prefix, () => new NativeObjectHandle(NativeMethods.sora_store_prefix_create(prefix, Handle), &NativeMethods.sora_store_dispose));
        return new TcpStore(handle, Host, Prefix.Length == 0 ? prefix : $"{Prefix}/{prefix}");
    }

    /// <summary>Sets a key to bytes.</summary>
    public void Set(string key, ReadOnlySpan<byte> value)
    {
        fixed (byte* data = value)
        {
            var pointer = data;
            var length = value.Length;
            Call("set", key, () => NativeError.Check(NativeMethods.sora_store_set(Handle, key, pointer, length)));
        }
    }

    /// <summary>Sets a key to a UTF-8 string.</summary>
    public void Set(string key, string value) => Set(key, Encoding.UTF8.GetBytes(value));

    /// <summary>Gets a key's bytes, waiting for it up to the store's timeout.</summary>
    public byte[] Get(string key)
    {
        var length = Call("get", key, () => NativeError.Check(NativeMethods.sora_store_get(Handle, key, null, 0)));
        while (true)
        {
            var buffer = new byte[length];
            long actual;
            fixed (byte* data = buffer)
            {
                var pointer = data;
                var capacity = buffer.LongLength;
                actual = Call("get", key, () => NativeError.Check(NativeMethods.sora_store_get(Handle, key, pointer, capacity)));
            }

            if (actual <= length)
            {
                return actual == length ? buffer : buffer[..(int)actual];
            }

            length = actual; // the value grew between the two reads
        }
    }

    /// <summary>Gets a key as a UTF-8 string, waiting for it up to the store's timeout.</summary>
    public string GetString(string key) => Encoding.UTF8.GetString(Get(key));

    /// <summary>Atomically adds <paramref name="delta"/> to a counter key (created at 0) and returns the new value.</summary>
    public long Add(string key, long delta) => Call("add", key, () =>
    {
        NativeError.Check(NativeMethods.sora_store_add(Handle, key, delta, out var result));
        return result;
    });

    /// <summary>Whether a key exists now (no waiting).</summary>
    public bool Contains(string key) => Call("check", key, () =>
    {
        NativeError.Check(NativeMethods.sora_store_check(Handle, key, out var exists));
        return exists != 0;
    });

    /// <summary>Deletes a key; false when it did not exist.</summary>
    public bool Delete(string key) => Call("delete", key, () =>
    {
        NativeError.Check(NativeMethods.sora_store_delete(Handle, key, out var deleted));
        return deleted != 0;
    });

    /// <summary>Waits until every key exists, or throws after <paramref name="timeout"/>.</summary>
    public void Wait(IReadOnlyList<string> keys, TimeSpan timeout)
    {
        var pointers = new IntPtr[keys.Count];
        try
        {
            for (var i = 0; i < keys.Count; i++)
            {
                pointers[i] = Marshal.StringToCoTaskMemUTF8(keys[i]);
            }

            fixed (IntPtr* array = pointers)
            {
                var keyArray = array;
                Call("wait", string.Join(", ", keys), () => NativeError.Check(NativeMethods.sora_store_wait(Handle, keyArray, keys.Count, ToMilliseconds(timeout))));
            }
        }
        finally
        {
            foreach (var pointer in pointers)
            {
                Marshal.FreeCoTaskMem(pointer);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    internal static long ToMilliseconds(TimeSpan timeout) =>
        timeout > TimeSpan.Zero ? (long)Math.Ceiling(timeout.TotalMilliseconds) : throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "a timeout must be positive");

    private static TcpStore Create(string host, int port, bool isServer, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        var milliseconds = ToMilliseconds(timeout);
        try
        {
            var handle = new NativeObjectHandle(
                NativeMethods.sora_store_tcp_create(host, port, isServer ? 1 : 0, worldSize: 0, waitForWorkers: 0, milliseconds),
                &NativeMethods.sora_store_dispose);
            return new TcpStore(handle, host, "");
        }
        catch (TorchException error)
        {
            var role = isServer ? "start the rendezvous store server on" : "connect to the rendezvous store at";
            throw new CollectiveException($"could not {role} {host}:{port} within {timeout.TotalSeconds:0.#} s: {error.Message}", error);
        }
    }

    private T Call<T>(string operation, string key, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (TorchException error)
        {
            var name = Prefix.Length == 0 ? key : $"{Prefix}/{key}";
            throw new CollectiveException($"rendezvous store {operation} '{name}' at {Host}:{Port} failed: {error.Message}", error);
        }
    }
}

using System.Runtime.InteropServices;

namespace Sora.Data.Parquet.Compression;

/// <summary>
/// ZSTD through the system's libzstd (<c>libzstd.so.1</c>, part of every Debian install), loaded on first use.
/// If it cannot be loaded, every call throws a <see cref="ParquetFormatException"/> saying so. Each thread keeps one
/// compression and one decompression context (ZSTD_compress/ZSTD_decompress would allocate one per page); they are
/// freed when the thread ends.
/// </summary>
internal static unsafe class ZstdLibrary
{
    [ThreadStatic]
    private static ContextHandle? t_compression;

    [ThreadStatic]
    private static ContextHandle? t_decompression;

    public const string LibraryName = "libzstd.so.1";

    private const ulong ContentSizeUnknown = unchecked((ulong)-1);
    private const ulong ContentSizeError = unchecked((ulong)-2);

    private static readonly Lazy<Exports> Loaded = new(Load);

    /// <summary>Compresses <paramref name="source"/> at <paramref name="level"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        var exports = Loaded.Value;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            t_compression ??= new ContextHandle(exports.CreateCCtx(), exports.FreeCCtx);
            var written = exports.CompressCCtx(t_compression.Pointer, dst, (nuint)destination.Length, src, (nuint)source.Length, level);
            Check(exports, written, "compress");
            return (int)written;
        }
    }

    /// <summary>The most bytes <see cref="Compress"/> can produce from <paramref name="sourceLength"/> bytes.</summary>
    public static int CompressBound(int sourceLength) => checked((int)Loaded.Value.CompressBound((nuint)sourceLength));

    /// <summary>Decompresses one or more frames into exactly <c>destination.Length</c> bytes, or throws.</summary>
    public static void Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var exports = Loaded.Value;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            var claimed = exports.GetFrameContentSize(src, (nuint)source.Length);
            if (claimed == ContentSizeError)
            {
                throw new ParquetFormatException("the ZSTD data does not start with a valid frame");
            }

            if (claimed != ContentSizeUnknown && claimed > (ulong)destination.Length)
            {
                throw new ParquetFormatException($"the ZSTD frame holds {claimed} bytes but the page header says {destination.Length}");
            }

            t_decompression ??= new ContextHandle(exports.CreateDCtx(), exports.FreeDCtx);
            var written = exports.DecompressDCtx(t_decompression.Pointer, dst, (nuint)destination.Length, src, (nuint)source.Length);
            Check(exports, written, "decompress");
            if ((int)written != destination.Length)
            {
                throw new ParquetFormatException($"ZSTD data decompressed to {written} bytes but the page header says {destination.Length}");
            }
        }
    }

    private static void Check(Exports exports, nuint result, string operation)
    {
        if (exports.IsError(result) != 0)
        {
            var name = Marshal.PtrToStringUTF8((nint)exports.GetErrorName(result)) ?? "unknown error";
            throw new ParquetFormatException($"ZSTD {operation} failed: {name}");
        }
    }

    private static Exports Load()
    {
        if (!NativeLibrary.TryLoad(LibraryName, out var handle))
        {
            throw new ParquetFormatException(
                $"ZSTD compression needs the system library {LibraryName}, which could not be loaded (on Debian/Ubuntu: apt-get install libzstd1)");
        }

        void* Get(string name) => (void*)NativeLibrary.GetExport(handle, name);
        return new Exports(
            (delegate* unmanaged<void*, byte*, nuint, byte*, nuint, int, nuint>)Get("ZSTD_compressCCtx"),
            (delegate* unmanaged<void*, byte*, nuint, byte*, nuint, nuint>)Get("ZSTD_decompressDCtx"),
            (delegate* unmanaged<void*>)Get("ZSTD_createCCtx"),
            (delegate* unmanaged<void*, nuint>)Get("ZSTD_freeCCtx"),
            (delegate* unmanaged<void*>)Get("ZSTD_createDCtx"),
            (delegate* unmanaged<void*, nuint>)Get("ZSTD_freeDCtx"),
            (delegate* unmanaged<byte*, nuint, ulong>)Get("ZSTD_getFrameContentSize"),
            (delegate* unmanaged<nuint, nuint>)Get("ZSTD_compressBound"),
            (delegate* unmanaged<nuint, uint>)Get("ZSTD_isError"),
            (delegate* unmanaged<nuint, byte*>)Get("ZSTD_getErrorName"));
    }

    private sealed class Exports(
        delegate* unmanaged<void*, byte*, nuint, byte*, nuint, int, nuint> compressCCtx,
        delegate* unmanaged<void*, byte*, nuint, byte*, nuint, nuint> decompressDCtx,
        delegate* unmanaged<void*> createCCtx,
        delegate* unmanaged<void*, nuint> freeCCtx,
        delegate* unmanaged<void*> createDCtx,
        delegate* unmanaged<void*, nuint> freeDCtx,
        delegate* unmanaged<byte*, nuint, ulong> getFrameContentSize,
        delegate* unmanaged<nuint, nuint> compressBound,
        delegate* unmanaged<nuint, uint> isError,
        delegate* unmanaged<nuint, byte*> getErrorName)
    {
        public nuint CompressCCtx(void* context, byte* dst, nuint capacity, byte* src, nuint length, int level) => compressCCtx(context, dst, capacity, src, length, level);

        public nuint DecompressDCtx(void* context, byte* dst, nuint capacity, byte* src, nuint length) => decompressDCtx(context, dst, capacity, src, length);

        public void* CreateCCtx() => createCCtx();

        public void FreeCCtx(void* context) => freeCCtx(context);

        public void* CreateDCtx() => createDCtx();

        public void FreeDCtx(void* context) => freeDCtx(context);

        public ulong GetFrameContentSize(byte* src, nuint length) => getFrameContentSize(src, length);

        public nuint CompressBound(nuint length) => compressBound(length);

        public uint IsError(nuint code) => isError(code);

        public byte* GetErrorName(nuint code) => getErrorName(code);
    }

    /// <summary>Owns one native ZSTD context; the finalizer frees it once its thread (the only holder) has ended.</summary>
    private sealed class ContextHandle : SafeHandle
    {
        private readonly FreeContext free;

        public ContextHandle(void* context, FreeContext free)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            if (context is null)
            {
                throw new InvalidOperationException("libzstd could not create a context (out of memory?)");
            }

            this.free = free;
            SetHandle((IntPtr)context);
        }

        public delegate void FreeContext(void* context);

        public override bool IsInvalid => handle == IntPtr.Zero;

        public void* Pointer => (void*)handle;

        protected override bool ReleaseHandle()
        {
            free((void*)handle);
            return true;
        }
    }
}

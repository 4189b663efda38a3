using System.Runtime.InteropServices;

namespace Sora.Data.Parquet.Compression;

/// <summary>
/// ZSTD through the system's libzstd (<c>libzstd.so.1</c>, part of every Debian install), loaded on first use.
/// If it cannot be loaded, every call throws a <see cref="ParquetFormatException"/> saying so.
/// </summary>
internal static unsafe class ZstdLibrary
{
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
            var written = exports.Compress(dst, (nuint)destination.Length, src, (nuint)source.Length, level);
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

            var written = exports.Decompress(dst, (nuint)destination.Length, src, (nuint)source.Length);
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
            (delegate* unmanaged<byte*, nuint, byte*, nuint, int, nuint>)Get("ZSTD_compress"),
            (delegate* unmanaged<byte*, nuint, byte*, nuint, nuint>)Get("ZSTD_decompress"),
            (delegate* unmanaged<byte*, nuint, ulong>)Get("ZSTD_getFrameContentSize"),
            (delegate* unmanaged<nuint, nuint>)Get("ZSTD_compressBound"),
            (delegate* unmanaged<nuint, uint>)Get("ZSTD_isError"),
            (delegate* unmanaged<nuint, byte*>)Get("ZSTD_getErrorName"));
    }

    private sealed class Exports(
        delegate* unmanaged<byte*, nuint, byte*, nuint, int, nuint> compress,
        delegate* unmanaged<byte*, nuint, byte*, nuint, nuint> decompress,
        delegate* unmanaged<byte*, nuint, ulong> getFrameContentSize,
        delegate* unmanaged<nuint, nuint> compressBound,
        delegate* unmanaged<nuint, uint> isError,
        delegate* unmanaged<nuint, byte*> getErrorName)
    {
        public nuint Compress(byte* dst, nuint capacity, byte* src, nuint length, int level) => compress(dst, capacity, src, length, level);

        public nuint Decompress(byte* dst, nuint capacity, byte* src, nuint length) => decompress(dst, capacity, src, length);

        public ulong GetFrameContentSize(byte* src, nuint length) => getFrameContentSize(src, length);

        public nuint CompressBound(nuint length) => compressBound(length);

        public uint IsError(nuint code) => isError(code);

        public byte* GetErrorName(nuint code) => getErrorName(code);
    }
}

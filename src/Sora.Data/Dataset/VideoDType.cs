namespace Sora.Data.Dataset;

/// <summary>The payload element types a video dataset may hold, by the names stored in its <c>dtype</c> column.</summary>
public static class VideoDType
{
    public const string UInt8 = "uint8";
    public const string Float16 = "float16";
    public const string BFloat16 = "bfloat16";
    public const string Float32 = "float32";

    public static IReadOnlyList<string> All { get; } = [UInt8, Float16, BFloat16, Float32];

    public static bool IsKnown(string? dtype) => dtype is UInt8 or Float16 or BFloat16 or Float32;

    /// <summary>Bytes per element; throws <see cref="ArgumentException"/> for an unknown name.</summary>
    public static int Size(string dtype) => dtype switch
    {
        UInt8 => 1,
        Float16 or BFloat16 => 2,
        Float32 => 4,
        _ => throw new ArgumentException($"unknown dtype '{dtype}'; allowed: {string.Join(", ", All)}", nameof(dtype)),
    };
}

using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Sora.Data.Parquet.Metadata;

/// <summary>A column chunk's statistics: null count and, where written, the minimum and maximum in PLAIN encoding.</summary>
public sealed class ColumnStatistics
{
    public long? NullCount { get; init; }

    public long? DistinctCount { get; init; }

    /// <summary>The smallest value, PLAIN-encoded without a length prefix (null when not written).</summary>
    public byte[]? Min { get; init; }

    /// <summary>The largest value, PLAIN-encoded without a length prefix (null when not written).</summary>
    public byte[]? Max { get; init; }

    /// <summary>The minimum decoded for <paramref name="type"/> (int, long, float, double, bool, string for STRING, else byte[]).</summary>
    public object? MinValue(PhysicalType type, LogicalKind logical = LogicalKind.None) => Decode(Min, type, logical);

    /// <summary>The maximum decoded like <see cref="MinValue"/>.</summary>
    public object? MaxValue(PhysicalType type, LogicalKind logical = LogicalKind.None) => Decode(Max, type, logical);

    /// <summary>A statistics value as text for display ("3", "1.5", "cat", "0x0a0b...").</summary>
    public static string Format(object? value) => value switch
    {
        null => "-",
        byte[] bytes => bytes.Length <= 16 ? $"0x{Convert.ToHexStringLower(bytes)}" : $"0x{Convert.ToHexStringLower(bytes.AsSpan(0, 16))}... ({bytes.Length} bytes)",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "-",
    };

    private static object? Decode(byte[]? bytes, PhysicalType type, LogicalKind logical)
    {
        if (bytes is null)
        {
            return null;
        }

        return type switch
        {
            PhysicalType.Int32 when bytes.Length == 4 => BinaryPrimitives.ReadInt32LittleEndian(bytes),
            PhysicalType.Int64 when bytes.Length == 8 => BinaryPrimitives.ReadInt64LittleEndian(bytes),
            PhysicalType.Float when bytes.Length == 4 => BinaryPrimitives.ReadSingleLittleEndian(bytes),
            PhysicalType.Double when bytes.Length == 8 => BinaryPrimitives.ReadDoubleLittleEndian(bytes),
            PhysicalType.Boolean when bytes.Length == 1 => bytes[0] != 0,
            PhysicalType.ByteArray when logical == LogicalKind.String => Encoding.UTF8.GetString(bytes),
            _ => bytes,
        };
    }
}

using System.Buffers.Binary;

namespace Sora.Data.Parquet.Metadata;

/// <summary>Computes a column chunk's statistics: null count, and min/max in the type's defined order (unsigned bytes for binary).</summary>
internal static class ColumnStatisticsBuilder
{
    public static ColumnStatistics Build(ColumnBuffer column, int maxValueBytes)
    {
        var nulls = column.LevelCount - column.ValueCount;
        var (min, max) = column.ValueCount == 0 ? (null, null) : column.Column!.PhysicalType switch
        {
            PhysicalType.Int32 => MinMax(column.Int32Values, 4, BinaryPrimitives.WriteInt32LittleEndian),
            PhysicalType.Int64 => MinMax(column.Int64Values, 8, BinaryPrimitives.WriteInt64LittleEndian),
            PhysicalType.Float => FloatingMinMax(column.FloatValues, 4, BinaryPrimitives.WriteSingleLittleEndian),
            PhysicalType.Double => FloatingMinMax(column.DoubleValues, 8, BinaryPrimitives.WriteDoubleLittleEndian),
            PhysicalType.Boolean => MinMax(column.BooleanValues, 1, (span, value) => span[0] = value ? (byte)1 : (byte)0),
            _ => BinaryMinMax(column, maxValueBytes),
        };
        return new ColumnStatistics { NullCount = nulls, Min = min, Max = max };
    }

    private static (byte[]?, byte[]?) MinMax<T>(ReadOnlySpan<T> values, int size, SpanWriter<T> write)
        where T : IComparable<T>
    {
        var min = values[0];
        var max = values[0];
        foreach (var value in values)
        {
            if (value.CompareTo(min) < 0)
            {
                min = value;
            }

            if (value.CompareTo(max) > 0)
            {
                max = value;
            }
        }

        var minBytes = new byte[size];
        var maxBytes = new byte[size];
        write(minBytes, min);
        write(maxBytes, max);
        return (minBytes, maxBytes);
    }

    /// <summary>Min and max of a float column, NaNs left out; the format asks for −0 as a zero minimum and +0 as a zero maximum.</summary>
    private static (byte[]?, byte[]?) FloatingMinMax<T>(ReadOnlySpan<T> values, int size, SpanWriter<T> write)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        var min = T.PositiveInfinity;
        var max = T.NegativeInfinity;
        var any = false;
        foreach (var value in values)
        {
            if (T.IsNaN(value))
            {
                continue;
            }

            any = true;
            min = T.Min(min, value);
            max = T.Max(max, value);
        }

        if (!any)
        {
            return (null, null);
        }

        min = T.IsZero(min) ? T.NegativeZero : min;
        max = T.IsZero(max) ? T.Zero : max;
        var minBytes = new byte[size];
        var maxBytes = new byte[size];
        write(minBytes, min);
        write(maxBytes, max);
        return (minBytes, maxBytes);
    }

    private static (byte[]?, byte[]?) BinaryMinMax(ColumnBuffer column, int maxValueBytes)
    {
        var min = 0;
        var max = 0;
        for (var i = 0; i < column.ValueCount; i++)
        {
            var value = column.GetBytes(i);
            if (value.Length > maxValueBytes)
            {
                return (null, null);
            }

            if (value.SequenceCompareTo(column.GetBytes(min)) < 0)
            {
                min = i;
            }

            if (value.SequenceCompareTo(column.GetBytes(max)) > 0)
            {
                max = i;
            }
        }

        return (column.GetBytes(min).ToArray(), column.GetBytes(max).ToArray());
    }

    private delegate void SpanWriter<in T>(Span<byte> destination, T value);
}

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
            PhysicalType.Float => FloatMinMax(column.FloatValues),
            PhysicalType.Double => DoubleMinMax(column.DoubleValues),
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

    private static (byte[]?, byte[]?) FloatMinMax(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        var any = false;
        foreach (var value in values)
        {
            if (float.IsNaN(value))
            {
                continue;
            }

            any = true;
            min = Math.Min(min, value);
            max = Math.Max(max, value);
        }

        if (!any)
        {
            return (null, null);
        }

        // The format asks for -0 as a zero minimum and +0 as a zero maximum.
        min = min == 0 ? -0f : min;
        max = max == 0 ? 0f : max;
        var minBytes = new byte[4];
        var maxBytes = new byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(minBytes, min);
        BinaryPrimitives.WriteSingleLittleEndian(maxBytes, max);
        return (minBytes, maxBytes);
    }

    private static (byte[]?, byte[]?) DoubleMinMax(ReadOnlySpan<double> values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        var any = false;
        foreach (var value in values)
        {
            if (double.IsNaN(value))
            {
                continue;
            }

            any = true;
            min = Math.Min(min, value);
            max = Math.Max(max, value);
        }

        if (!any)
        {
            return (null, null);
        }

        min = min == 0 ? -0d : min;
        max = max == 0 ? 0d : max;
        var minBytes = new byte[8];
        var maxBytes = new byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(minBytes, min);
        BinaryPrimitives.WriteDoubleLittleEndian(maxBytes, max);
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

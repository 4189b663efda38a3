using Parquet.Data;
using Parquet.Schema;

namespace Sora.Data.Parquet;

/// <summary>
/// One column chunk read through Parquet.Net: its non-null leaf values (int[], long[], float[], double[], bool[],
/// string[] or ReadOnlyMemory&lt;byte&gt;[]) and, for each row of the row group, where that row's values are (<see cref="ValueRange"/>).
/// Flat columns and single-level lists are supported; a row's list may be null or empty, but not hold null elements.
/// </summary>
public sealed class ColumnValues
{
    private ColumnValues(string column, Array values, ValueRange[] rows)
    {
        Column = column;
        Values = values;
        Rows = rows;
    }

    /// <summary>The column's top-level name.</summary>
    public string Column { get; }

    /// <summary>The non-null values, in file order.</summary>
    public Array Values { get; }

    /// <summary>Per row: the range of <see cref="Values"/> it holds, or null.</summary>
    public IReadOnlyList<ValueRange> Rows { get; }

    /// <summary>The values as <typeparamref name="T"/>[]; a column of another type is a format error naming it.</summary>
    public T[] As<T>(string file, int rowGroup) => Values as T[]
        ?? throw ParquetFormatException.At(file, rowGroup, Column, $"holds {Values.GetType().GetElementType()?.Name} values, expected {typeof(T).Name}");

    /// <summary>
    /// Copies the values out of Parquet.Net's pooled buffers and places them in rows from the levels. Binary values
    /// are not copied: they stay slices of <paramref name="raw"/>'s buffers, which the caller then must not dispose
    /// (they go to the garbage collector instead of back to the pool). A loader reading a few rows of a row group
    /// then copies only those rows' bytes, not the whole column chunk's.
    /// </summary>
    internal static ColumnValues From(string column, DataField field, RawColumnData raw, long rowCount)
    {
        var values = raw switch
        {
            RawColumnData<int> r => r.Values.ToArray(),
            RawColumnData<long> r => r.Values.ToArray(),
            RawColumnData<float> r => r.Values.ToArray(),
            RawColumnData<double> r => r.Values.ToArray(),
            RawColumnData<bool> r => r.Values.ToArray(),
            RawColumnData<ReadOnlyMemory<char>> r => Strings(r.Values),
            RawColumnData<ReadOnlyMemory<byte>> r => r.Values.ToArray(),
            RawColumnData<byte> r => r.Values.ToArray(),
            _ => (Array?)null,
        } ?? throw new NotSupportedException($"the column type {field.ClrType.Name} is not supported by the dataset reader");
        if (field.MaxDefinitionLevel > 0)
        {
            values = Defined(values, raw.DefinitionLevels, field.MaxDefinitionLevel);
        }

        var rows = field.MaxRepetitionLevel switch
        {
            0 when field.MaxDefinitionLevel == 0 => Required(values.Length, rowCount),
            0 => Optional(raw.DefinitionLevels, field.MaxDefinitionLevel, values.Length, rowCount),
            1 => Lists(raw.DefinitionLevels, raw.RepetitionLevels, field, values.Length, rowCount),
            _ => throw new NotSupportedException($"nested lists (repetition level {field.MaxRepetitionLevel}) are not supported"),
        };
        return new ColumnValues(column, values, rows);
    }

    /// <summary>
    /// Parquet.Net may hand back a value buffer with one slot per level, the present values first: keep those (as
    /// many as the levels at the maximum definition level), so <see cref="Values"/> holds the present values only.
    /// </summary>
    private static Array Defined(Array values, Span<int> definitions, int maxDefinition)
    {
        var defined = 0;
        foreach (var definition in definitions)
        {
            defined += definition == maxDefinition ? 1 : 0;
        }

        if (values.Length == defined)
        {
            return values;
        }

        if (values.Length < defined)
        {
            throw new InvalidDataException($"holds {values.Length} values, but its definition levels place {defined}");
        }

        var present = Array.CreateInstance(values.GetType().GetElementType()!, defined);
        Array.Copy(values, present, defined);
        return present;
    }

    private static string[] Strings(Span<ReadOnlyMemory<char>> values)
    {
        var strings = new string[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            strings[i] = values[i].ToString();
        }

        return strings;
    }

    private static ValueRange[] Required(int values, long rowCount)
    {
        if (values != rowCount)
        {
            throw new InvalidDataException($"holds {values} values for the row group's {rowCount} rows");
        }

        var rows = new ValueRange[values];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = new ValueRange(i, 1, false);
        }

        return rows;
    }

    private static ValueRange[] Optional(Span<int> definitions, int maxDefinition, int values, long rowCount)
    {
        if (definitions.Length != rowCount)
        {
            throw new InvalidDataException($"has {definitions.Length} definition levels for the row group's {rowCount} rows");
        }

        var rows = new ValueRange[definitions.Length];
        var next = 0;
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = definitions[i] == maxDefinition ? new ValueRange(next++, 1, false) : new ValueRange(next, 0, true);
        }

        return next == values ? rows : throw new InvalidDataException($"its definition levels place {next} values, but it holds {values}");
    }

    private static ValueRange[] Lists(Span<int> definitions, Span<int> repetitions, DataField field, int values, long rowCount)
    {
        if (definitions.Length != repetitions.Length)
        {
            throw new InvalidDataException($"has {definitions.Length} definition levels but {repetitions.Length} repetition levels");
        }

        // A standard 3-level list: below the level where an element exists, the list is empty; below that, null.
        var element = field.IsNullable ? field.MaxDefinitionLevel - 1 : field.MaxDefinitionLevel;
        var empty = element - 1;
        var rows = new List<ValueRange>((int)Math.Min(rowCount, definitions.Length));
        var next = 0;
        for (var i = 0; i < definitions.Length; i++)
        {
            var definition = definitions[i];
            if (repetitions[i] == 0)
            {
                rows.Add(definition < empty ? new ValueRange(next, 0, true) : new ValueRange(next, 0, false));
            }
            else if (rows.Count == 0 || rows[^1].IsNull || rows[^1].Count == 0 || definition < element)
            {
                throw new InvalidDataException($"level {i} continues a list that was never started");
            }

            if (definition == field.MaxDefinitionLevel)
            {
                next++;
                rows[^1] = rows[^1] with { Count = rows[^1].Count + 1 };
            }
            else if (definition >= element)
            {
                throw new InvalidDataException($"row {rows.Count - 1} holds a null list element, which the dataset reader does not support");
            }
        }

        if (rows.Count != rowCount)
        {
            throw new InvalidDataException($"its levels describe {rows.Count} rows, but the row group has {rowCount}");
        }

        return next == values ? [.. rows] : throw new InvalidDataException($"its definition levels place {next} values, but it holds {values}");
    }
}

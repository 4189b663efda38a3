using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace Sora.Data.Parquet;

/// <summary>
/// One column chunk's data in memory: the non-null values packed densely by type, and the definition and repetition
/// levels that place them in rows. BYTE_ARRAY values are (start, length) slices of one byte store — the reader
/// decompresses pages straight into that store and points at the values where they lie, so payloads are not copied
/// again. The reader fills a buffer reusing its pooled arrays from chunk to chunk; a writer takes it from the
/// <c>Add</c> methods. Dispose returns the arrays to the pool.
/// </summary>
public sealed class ColumnBuffer : IDisposable
{
    private int[] definitionLevels = [];
    private int[] repetitionLevels = [];
    private int[] int32s = [];
    private long[] int64s = [];
    private float[] floats = [];
    private double[] doubles = [];
    private bool[] booleans = [];
    private byte[] bytes = [];
    private int[] starts = [];
    private int[] lengths = [];
    private int byteLength;
    private int emptyListDefinition;

    /// <summary>An empty buffer for <see cref="ParquetReader.ReadColumn(int, ParquetColumn, ColumnBuffer)"/> to fill.</summary>
    public ColumnBuffer()
    {
    }

    /// <summary>An empty buffer to fill with <c>Add</c> calls for <paramref name="column"/>.</summary>
    public ColumnBuffer(ParquetColumn column)
    {
        Reset(column);
    }

    public ParquetColumn? Column { get; private set; }

    /// <summary>Level entries (one per row for a flat column).</summary>
    public int LevelCount { get; private set; }

    /// <summary>Non-null values.</summary>
    public int ValueCount { get; private set; }

    /// <summary>Rows (level entries with repetition level 0).</summary>
    public int RowCount { get; private set; }

    /// <summary>Definition levels, one per level entry; empty when the column's maximum is 0.</summary>
    public ReadOnlySpan<int> DefinitionLevels => HasDefinition ? definitionLevels.AsSpan(0, LevelCount) : [];

    /// <summary>Repetition levels, one per level entry; empty when the column's maximum is 0.</summary>
    public ReadOnlySpan<int> RepetitionLevels => HasRepetition ? repetitionLevels.AsSpan(0, LevelCount) : [];

    public ReadOnlySpan<int> Int32Values => int32s.AsSpan(0, Count(PhysicalType.Int32));

    public ReadOnlySpan<long> Int64Values => int64s.AsSpan(0, Count(PhysicalType.Int64));

    public ReadOnlySpan<float> FloatValues => floats.AsSpan(0, Count(PhysicalType.Float));

    public ReadOnlySpan<double> DoubleValues => doubles.AsSpan(0, Count(PhysicalType.Double));

    public ReadOnlySpan<bool> BooleanValues => booleans.AsSpan(0, Count(PhysicalType.Boolean));

    /// <summary>Where each binary value starts in <see cref="BinaryStore"/> (ValueCount entries).</summary>
    public ReadOnlySpan<int> BinaryStarts => IsBinary ? starts.AsSpan(0, ValueCount) : [];

    /// <summary>Each binary value's length in bytes (ValueCount entries).</summary>
    public ReadOnlySpan<int> BinaryLengths => IsBinary ? lengths.AsSpan(0, ValueCount) : [];

    /// <summary>The bytes binary values are slices of (it may also hold bytes between values, such as length prefixes).</summary>
    public ReadOnlySpan<byte> BinaryStore => bytes.AsSpan(0, byteLength);

    /// <summary>Sum of the binary values' lengths.</summary>
    public long TotalBinaryBytes { get; private set; }

    private bool HasDefinition => Column is { MaxDefinitionLevel: > 0 };

    private bool HasRepetition => Column is { MaxRepetitionLevel: > 0 };

    private bool IsBinary => Column?.PhysicalType is PhysicalType.ByteArray or PhysicalType.FixedLenByteArray;

    /// <summary>Binary value <paramref name="index"/> (among the non-null values).</summary>
    public ReadOnlySpan<byte> GetBytes(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)ValueCount, nameof(index));
        return bytes.AsSpan(starts[index], lengths[index]);
    }

    /// <summary>Binary value <paramref name="index"/> decoded as UTF-8.</summary>
    public string GetString(int index) => Encoding.UTF8.GetString(GetBytes(index));

    /// <summary>Where each row's values are: one entry per row, for flat columns and single-level lists (the standard LIST layout).</summary>
    public ValueRange[] GetRows()
    {
        var rows = new ValueRange[RowCount];
        GetRows(rows);
        return rows;
    }

    /// <summary>Fills <paramref name="rows"/> (at least <see cref="RowCount"/> long) like <see cref="GetRows()"/> without allocating.</summary>
    public void GetRows(Span<ValueRange> rows)
    {
        var column = Column ?? throw new InvalidOperationException("the buffer holds no column");
        if (column.MaxRepetitionLevel > 1)
        {
            throw new NotSupportedException($"column '{column.DottedPath}' is nested {column.MaxRepetitionLevel} lists deep; read its levels directly");
        }

        if (rows.Length < RowCount)
        {
            throw new ArgumentException($"needs room for {RowCount} rows", nameof(rows));
        }

        var definitions = DefinitionLevels;
        var repetitions = RepetitionLevels;
        var maxDefinition = column.MaxDefinitionLevel;
        var value = 0;
        var row = -1;
        for (var i = 0; i < LevelCount; i++)
        {
            var definition = definitions.IsEmpty ? maxDefinition : definitions[i];
            var newRow = repetitions.IsEmpty || repetitions[i] == 0;
            if (newRow)
            {
                row++;
                rows[row] = new ValueRange(value, 0, column.MaxRepetitionLevel == 0 ? definition < maxDefinition : definition < emptyListDefinition);
            }

            if (definition == maxDefinition)
            {
                rows[row] = rows[row] with { Count = rows[row].Count + 1 };
                value++;
            }
        }
    }

    /// <summary>Empties the buffer and points it at <paramref name="column"/>, keeping its arrays for reuse.</summary>
    public void Reset(ParquetColumn column)
    {
        ArgumentNullException.ThrowIfNull(column);
        Column = column;
        LevelCount = 0;
        ValueCount = 0;
        RowCount = 0;
        byteLength = 0;
        TotalBinaryBytes = 0;
        emptyListDefinition = EmptyListDefinition(column);
    }

    public void Add(int value)
    {
        AddPresentLevel(PhysicalType.Int32);
        Grow(ref int32s, ValueCount + 1);
        int32s[ValueCount++] = value;
    }

    public void Add(long value)
    {
        AddPresentLevel(PhysicalType.Int64);
        Grow(ref int64s, ValueCount + 1);
        int64s[ValueCount++] = value;
    }

    public void Add(float value)
    {
        AddPresentLevel(PhysicalType.Float);
        Grow(ref floats, ValueCount + 1);
        floats[ValueCount++] = value;
    }

    public void Add(double value)
    {
        AddPresentLevel(PhysicalType.Double);
        Grow(ref doubles, ValueCount + 1);
        doubles[ValueCount++] = value;
    }

    public void Add(bool value)
    {
        AddPresentLevel(PhysicalType.Boolean);
        Grow(ref booleans, ValueCount + 1);
        booleans[ValueCount++] = value;
    }

    /// <summary>Adds a BYTE_ARRAY (or FIXED_LEN_BYTE_ARRAY of the right length) value.</summary>
    public void Add(ReadOnlySpan<byte> value)
    {
        var column = RequireBinary();
        if (column.PhysicalType == PhysicalType.FixedLenByteArray && value.Length != column.TypeLength)
        {
            throw new ArgumentException($"column '{column.DottedPath}' holds {column.TypeLength}-byte values, got {value.Length} bytes", nameof(value));
        }

        AddPresentLevel(column.PhysicalType);
        AppendBinaryValue(value);
    }

    /// <summary>Adds a string as UTF-8.</summary>
    public void Add(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        RequireBinary();
        AddPresentLevel(PhysicalType.ByteArray);
        var length = Encoding.UTF8.GetByteCount(value);
        var start = byteLength;
        Encoding.UTF8.GetBytes(value, AppendStore(length));
        RegisterBinary(start, length);
    }

    /// <summary>Adds a null row to an optional flat column, or a null list to an optional list column.</summary>
    public void AddNull()
    {
        var column = Column ?? throw new InvalidOperationException("the buffer holds no column");
        var definition = column.MaxRepetitionLevel == 0 ? column.MaxDefinitionLevel - 1 : emptyListDefinition - 1;
        if (definition < 0 || (column.MaxRepetitionLevel == 0 && column.Field.Repetition != Repetition.Optional))
        {
            throw new InvalidOperationException($"column '{column.DottedPath}' is required: it cannot hold a null");
        }

        AddLevel(0, definition);
    }

    /// <summary>Adds one row of a list column (standard LIST layout, required elements): all of <paramref name="values"/>, or an empty list.</summary>
    public void AddList<T>(ReadOnlySpan<T> values)
        where T : struct
    {
        var column = Column ?? throw new InvalidOperationException("the buffer holds no column");
        if (column.MaxRepetitionLevel != 1)
        {
            throw new InvalidOperationException($"column '{column.DottedPath}' is not a list");
        }

        if (values.IsEmpty)
        {
            AddLevel(0, emptyListDefinition);
            return;
        }

        RequireValueType<T>(column);
        for (var i = 0; i < values.Length; i++)
        {
            AddLevel(i == 0 ? 0 : 1, column.MaxDefinitionLevel);
        }

        values.CopyTo(AppendValues<T>(values.Length));
    }

    /// <summary>Adds one row per value to a flat column (required, or optional with every value present): the bulk form of <c>Add</c>.</summary>
    public void AddRange<T>(ReadOnlySpan<T> values)
        where T : struct
    {
        var column = Column ?? throw new InvalidOperationException("the buffer holds no column");
        if (column.MaxRepetitionLevel > 0)
        {
            throw new InvalidOperationException($"column '{column.DottedPath}' is a list: add rows with AddList");
        }

        RequireValueType<T>(column);
        AppendLevels(values.Length, out _).Fill(column.MaxDefinitionLevel);
        values.CopyTo(AppendValues<T>(values.Length));
        RowCount += values.Length;
    }

    public void Dispose()
    {
        Release(ref definitionLevels);
        Release(ref repetitionLevels);
        Release(ref int32s);
        Release(ref int64s);
        Release(ref floats);
        Release(ref doubles);
        Release(ref booleans);
        Release(ref bytes);
        Release(ref starts);
        Release(ref lengths);
        Column = null;
    }

    /// <summary>The definition level of an empty list: the level of the list's repeated group, minus its own step.</summary>
    internal static int EmptyListDefinition(ParquetColumn column)
    {
        if (column.MaxRepetitionLevel == 0)
        {
            return column.MaxDefinitionLevel;
        }

        // Levels added below the innermost repeated node: the leaf's own optionality (standard LIST: element).
        var below = column.Field.Repetition == Repetition.Optional ? 1 : 0;
        return column.MaxDefinitionLevel - below - 1;
    }

    // --- used by the reader to fill the buffer in bulk ---

    internal Span<int> AppendLevels(int count, out Span<int> repetition)
    {
        var start = LevelCount;
        if (HasDefinition)
        {
            Grow(ref definitionLevels, start + count);
        }

        if (HasRepetition)
        {
            Grow(ref repetitionLevels, start + count);
        }

        LevelCount += count;
        repetition = HasRepetition ? repetitionLevels.AsSpan(start, count) : [];
        return HasDefinition ? definitionLevels.AsSpan(start, count) : [];
    }

    internal void CountRows(int levelStart)
    {
        if (!HasRepetition)
        {
            RowCount = LevelCount;
            return;
        }

        RowCount += repetitionLevels.AsSpan(levelStart, LevelCount - levelStart).Count(0);
    }

    internal Span<T> AppendValues<T>(int count)
        where T : struct
    {
        var start = ValueCount;
        Span<T> span;
        if (typeof(T) == typeof(int))
        {
            Grow(ref int32s, start + count);
            span = MemoryMarshal.Cast<int, T>(int32s.AsSpan(start, count));
        }
        else if (typeof(T) == typeof(long))
        {
            Grow(ref int64s, start + count);
            span = MemoryMarshal.Cast<long, T>(int64s.AsSpan(start, count));
        }
        else if (typeof(T) == typeof(float))
        {
            Grow(ref floats, start + count);
            span = MemoryMarshal.Cast<float, T>(floats.AsSpan(start, count));
        }
        else if (typeof(T) == typeof(double))
        {
            Grow(ref doubles, start + count);
            span = MemoryMarshal.Cast<double, T>(doubles.AsSpan(start, count));
        }
        else if (typeof(T) == typeof(bool))
        {
            Grow(ref booleans, start + count);
            span = MemoryMarshal.Cast<bool, T>(booleans.AsSpan(start, count));
        }
        else
        {
            throw new NotSupportedException(typeof(T).Name);
        }

        ValueCount += count;
        return span;
    }

    /// <summary>Appends <paramref name="count"/> bytes to the binary store (for a page to be decoded in place); returns them.</summary>
    internal Span<byte> AppendStore(int count)
    {
        if (byteLength + (long)count > Array.MaxLength)
        {
            throw new ParquetFormatException($"binary values of one column chunk exceed {Array.MaxLength} bytes");
        }

        Grow(ref bytes, byteLength + count);
        var span = bytes.AsSpan(byteLength, count);
        byteLength += count;
        return span;
    }

    /// <summary>The writable store from <paramref name="start"/> (where the reader may place a whole chunk before decoding it in place).</summary>
    internal Span<byte> StoreFrom(int start) => bytes.AsSpan(start, byteLength - start);

    /// <summary>Makes room for <paramref name="count"/> more binary values.</summary>
    internal void ReserveBinary(int count)
    {
        Grow(ref starts, ValueCount + count);
        Grow(ref lengths, ValueCount + count);
    }

    /// <summary>Adds a binary value that lies in the store at <paramref name="start"/>.</summary>
    internal void RegisterBinary(int start, int length)
    {
        if (ValueCount >= starts.Length || ValueCount >= lengths.Length)
        {
            ReserveBinary(Math.Max(16, ValueCount));
        }

        starts[ValueCount] = start;
        lengths[ValueCount] = length;
        ValueCount++;
        TotalBinaryBytes += length;
    }

    /// <summary>Appends one binary value to the store.</summary>
    internal void AppendBinaryValue(ReadOnlySpan<byte> value)
    {
        var start = byteLength;
        value.CopyTo(AppendStore(value.Length));
        RegisterBinary(start, value.Length);
    }

    private void AddPresentLevel(PhysicalType type)
    {
        var column = Column ?? throw new InvalidOperationException("the buffer holds no column");
        if (column.PhysicalType != type)
        {
            throw new ArgumentException($"column '{column.DottedPath}' holds {column.PhysicalType} values, not {type}");
        }

        if (column.MaxRepetitionLevel > 0)
        {
            throw new InvalidOperationException($"column '{column.DottedPath}' is a list: add rows with AddList");
        }

        AddLevel(0, column.MaxDefinitionLevel);
    }

    private void AddLevel(int repetition, int definition)
    {
        if (HasDefinition)
        {
            Grow(ref definitionLevels, LevelCount + 1);
            definitionLevels[LevelCount] = definition;
        }

        if (HasRepetition)
        {
            Grow(ref repetitionLevels, LevelCount + 1);
            repetitionLevels[LevelCount] = repetition;
        }

        LevelCount++;
        if (repetition == 0)
        {
            RowCount++;
        }
    }

    private static void RequireValueType<T>(ParquetColumn column)
    {
        var type = column.PhysicalType;
        var matches = (typeof(T) == typeof(float) && type == PhysicalType.Float)
            || (typeof(T) == typeof(double) && type == PhysicalType.Double)
            || (typeof(T) == typeof(int) && type == PhysicalType.Int32)
            || (typeof(T) == typeof(long) && type == PhysicalType.Int64)
            || (typeof(T) == typeof(bool) && type == PhysicalType.Boolean);
        if (!matches)
        {
            throw new ArgumentException($"column '{column.DottedPath}' holds {type} values, not {typeof(T).Name}");
        }
    }

    private ParquetColumn RequireBinary()
    {
        var column = Column ?? throw new InvalidOperationException("the buffer holds no column");
        return IsBinary ? column : throw new ArgumentException($"column '{column.DottedPath}' holds {column.PhysicalType} values, not bytes");
    }

    private int Count(PhysicalType type) => Column?.PhysicalType == type ? ValueCount : 0;

    private static void Grow<T>(ref T[] array, int needed)
    {
        if (needed <= array.Length)
        {
            return;
        }

        var bigger = ArrayPool<T>.Shared.Rent(Math.Max(needed, Math.Min(Array.MaxLength, Math.Max(16, array.Length * 2))));
        array.AsSpan().CopyTo(bigger);
        Release(ref array);
        array = bigger;
    }

    private static void Release<T>(ref T[] array)
    {
        if (array.Length > 0)
        {
            ArrayPool<T>.Shared.Return(array);
            array = [];
        }
    }
}

namespace Sora.Data.Parquet;

/// <summary>
/// One node of a Parquet schema: a leaf with a physical type, or a group of fields. Build leaves with the static
/// helpers (<see cref="String"/>, <see cref="Int32"/>, <see cref="List"/>, ...).
/// </summary>
public sealed class ParquetField
{
    /// <summary>A leaf or a group; most callers use the static helpers instead.</summary>
    public ParquetField(string name, Repetition repetition, PhysicalType? physicalType, LogicalKind logical = LogicalKind.None, int typeLength = 0, IReadOnlyList<ParquetField>? children = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (physicalType is null && children is not { Count: > 0 })
        {
            throw new ArgumentException($"Parquet field '{name}': a group needs at least one child", nameof(children));
        }

        if (physicalType is not null && children is { Count: > 0 })
        {
            throw new ArgumentException($"Parquet field '{name}': a leaf (physical type {physicalType}) cannot have children", nameof(children));
        }

        if (physicalType == Parquet.PhysicalType.FixedLenByteArray && typeLength <= 0)
        {
            throw new ArgumentException($"Parquet field '{name}': FIXED_LEN_BYTE_ARRAY needs a positive length", nameof(typeLength));
        }

        if (logical == LogicalKind.String && physicalType != Parquet.PhysicalType.ByteArray)
        {
            throw new ArgumentException($"Parquet field '{name}': STRING annotates BYTE_ARRAY only", nameof(logical));
        }

        Name = name;
        Repetition = repetition;
        PhysicalType = physicalType;
        Logical = logical;
        TypeLength = typeLength;
        Children = children ?? [];
    }

    public string Name { get; }

    public Repetition Repetition { get; }

    /// <summary>The physical type of a leaf; null for a group.</summary>
    public PhysicalType? PhysicalType { get; }

    public LogicalKind Logical { get; }

    /// <summary>Bytes per value of a FIXED_LEN_BYTE_ARRAY leaf (0 otherwise).</summary>
    public int TypeLength { get; }

    /// <summary>A group's fields (empty for a leaf).</summary>
    public IReadOnlyList<ParquetField> Children { get; }

    public bool IsLeaf => PhysicalType is not null;

    public static ParquetField String(string name, bool optional = false) => Leaf(name, Parquet.PhysicalType.ByteArray, optional, LogicalKind.String);

    public static ParquetField Binary(string name, bool optional = false) => Leaf(name, Parquet.PhysicalType.ByteArray, optional);

    public static ParquetField FixedBinary(string name, int length, bool optional = false) =>
        new(name, optional ? Repetition.Optional : Repetition.Required, Parquet.PhysicalType.FixedLenByteArray, typeLength: length);

    public static ParquetField Int32(string name, bool optional = false) => Leaf(name, Parquet.PhysicalType.Int32, optional);

    public static ParquetField Int64(string name, bool optional = false) => Leaf(name, Parquet.PhysicalType.Int64, optional);

    public static ParquetField Float(string name, bool optional = false) => Leaf(name, Parquet.PhysicalType.Float, optional);

    public static ParquetField Double(string name, bool optional = false) => Leaf(name, Parquet.PhysicalType.Double, optional);

    public static ParquetField Boolean(string name, bool optional = false) => Leaf(name, Parquet.PhysicalType.Boolean, optional);

    /// <summary>
    /// A list in the standard three-level layout: <c>&lt;optional|required&gt; group name (LIST) { repeated group list { element } }</c>.
    /// <paramref name="element"/> is named "element" whatever name it was given.
    /// </summary>
    public static ParquetField List(string name, ParquetField element, bool optional = true)
    {
        ArgumentNullException.ThrowIfNull(element);
        var renamed = new ParquetField("element", element.Repetition, element.PhysicalType, element.Logical, element.TypeLength, element.Children);
        var list = new ParquetField("list", Repetition.Repeated, null, children: [renamed]);
        return new ParquetField(name, optional ? Repetition.Optional : Repetition.Required, null, LogicalKind.List, children: [list]);
    }

    public override string ToString() =>
        IsLeaf
            ? $"{Repetition.ToString().ToLowerInvariant()} {PhysicalType}{(Logical != LogicalKind.None ? $" ({Logical})" : string.Empty)} {Name}"
            : $"{Repetition.ToString().ToLowerInvariant()} group {Name}{(Logical != LogicalKind.None ? $" ({Logical})" : string.Empty)}";

    private static ParquetField Leaf(string name, PhysicalType type, bool optional, LogicalKind logical = LogicalKind.None) =>
        new(name, optional ? Repetition.Optional : Repetition.Required, type, logical);
}

namespace Sora.Data.Parquet;

/// <summary>One leaf column of a schema: where it sits, its physical type and its maximum definition and repetition levels.</summary>
public sealed class ParquetColumn
{
    internal ParquetColumn(int index, IReadOnlyList<string> path, ParquetField field, int maxDefinitionLevel, int maxRepetitionLevel)
    {
        Index = index;
        Path = path;
        Field = field;
        MaxDefinitionLevel = maxDefinitionLevel;
        MaxRepetitionLevel = maxRepetitionLevel;
        DottedPath = string.Join('.', path);
    }

    /// <summary>Position among the schema's leaf columns (and in each row group's column chunks).</summary>
    public int Index { get; }

    /// <summary>Names from the top-level field down to the leaf, e.g. ["text_embedding", "list", "element"].</summary>
    public IReadOnlyList<string> Path { get; }

    public string DottedPath { get; }

    /// <summary>The top-level field this leaf belongs to.</summary>
    public string TopLevelName => Path[0];

    /// <summary>The leaf field itself.</summary>
    public ParquetField Field { get; }

    public PhysicalType PhysicalType => Field.PhysicalType!.Value;

    public LogicalKind Logical => Field.Logical;

    public int TypeLength => Field.TypeLength;

    public int MaxDefinitionLevel { get; }

    public int MaxRepetitionLevel { get; }

    public override string ToString() => $"{DottedPath} ({PhysicalType}, max def {MaxDefinitionLevel}, max rep {MaxRepetitionLevel})";
}

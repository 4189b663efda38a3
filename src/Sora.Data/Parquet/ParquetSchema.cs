namespace Sora.Data.Parquet;

/// <summary>A file's schema: the top-level fields and, flattened, the leaf columns in file order.</summary>
public sealed class ParquetSchema
{
    /// <summary>Deepest nesting accepted when reading a schema.</summary>
    public const int MaxDepth = 16;

    private readonly Dictionary<string, ParquetColumn> byPath = new(StringComparer.Ordinal);

    public ParquetSchema(params IReadOnlyList<ParquetField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0)
        {
            throw new ArgumentException("A Parquet schema needs at least one field", nameof(fields));
        }

        Fields = fields;
        var columns = new List<ParquetColumn>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            if (!names.Add(field.Name))
            {
                throw new ArgumentException($"Parquet schema: field '{field.Name}' appears twice", nameof(fields));
            }

            Flatten(field, [], 0, 0, 1, columns);
        }

        Columns = columns;
        foreach (var column in columns)
        {
            byPath[column.DottedPath] = column;
        }
    }

    public IReadOnlyList<ParquetField> Fields { get; }

    /// <summary>Leaf columns in the order their chunks appear in each row group.</summary>
    public IReadOnlyList<ParquetColumn> Columns { get; }

    /// <summary>
    /// The leaf column named by a dotted path ("text_embedding.list.element") or by a top-level field that holds exactly
    /// one leaf ("text_embedding"); throws <see cref="KeyNotFoundException"/> listing the columns otherwise.
    /// </summary>
    public ParquetColumn Column(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (byPath.TryGetValue(name, out var column))
        {
            return column;
        }

        var under = Columns.Where(c => c.TopLevelName == name).ToList();
        if (under.Count == 1)
        {
            return under[0];
        }

        throw new KeyNotFoundException(
            under.Count > 1
                ? $"Parquet field '{name}' holds {under.Count} columns; name one of: {string.Join(", ", under.Select(c => c.DottedPath))}"
                : $"no Parquet column '{name}'; the columns are: {string.Join(", ", Columns.Select(c => c.DottedPath))}");
    }

    public bool TryGetColumn(string name, out ParquetColumn? column)
    {
        try
        {
            column = Column(name);
            return true;
        }
        catch (KeyNotFoundException)
        {
            column = null;
            return false;
        }
    }

    /// <summary>The schema as indented text, one field per line.</summary>
    public override string ToString()
    {
        var lines = new List<string>();
        void Add(ParquetField field, int indent)
        {
            lines.Add(new string(' ', indent * 2) + field);
            foreach (var child in field.Children)
            {
                Add(child, indent + 1);
            }
        }

        foreach (var field in Fields)
        {
            Add(field, 0);
        }

        return string.Join(Environment.NewLine, lines);
    }

    private static void Flatten(ParquetField field, List<string> parent, int definition, int repetition, int depth, List<ParquetColumn> columns)
    {
        if (depth > MaxDepth)
        {
            throw new ArgumentException($"Parquet schema: field '{field.Name}' is nested deeper than {MaxDepth}");
        }

        var path = new List<string>(parent) { field.Name };
        if (field.Repetition != Repetition.Required)
        {
            definition++;
        }

        if (field.Repetition == Repetition.Repeated)
        {
            repetition++;
        }

        if (field.IsLeaf)
        {
            columns.Add(new ParquetColumn(columns.Count, path, field, definition, repetition));
            return;
        }

        foreach (var child in field.Children)
        {
            Flatten(child, path, definition, repetition, depth + 1, columns);
        }
    }
}

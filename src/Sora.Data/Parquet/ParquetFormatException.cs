namespace Sora.Data.Parquet;

/// <summary>
/// A Parquet file is malformed or uses something this reader does not support. The message names the file, and where
/// known the row group and the column at fault.
/// </summary>
public sealed class ParquetFormatException : Exception
{
    public ParquetFormatException()
    {
    }

    public ParquetFormatException(string message)
        : base(message)
    {
        Problem = message;
    }

    public ParquetFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problem = message;
    }

    private ParquetFormatException(string? file, int? rowGroup, string? column, string problem, Exception? inner)
        : base(Describe(file, rowGroup, column, problem), inner)
    {
        File = file;
        RowGroup = rowGroup;
        Column = column;
        Problem = problem;
    }

    /// <summary>The file at fault (null when the data did not come from a named file).</summary>
    public string? File { get; }

    /// <summary>The zero-based row group at fault, when the problem is inside one.</summary>
    public int? RowGroup { get; }

    /// <summary>The column's dotted path, when the problem is inside one column.</summary>
    public string? Column { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; } = string.Empty;

    internal static ParquetFormatException At(string? file, int? rowGroup, string? column, string problem, Exception? inner = null) =>
        new(file, rowGroup, column, problem, inner);

    /// <summary>This exception with the location filled in where it was not known yet (the innermost location wins).</summary>
    internal ParquetFormatException WithLocation(string? file, int? rowGroup, string? column) =>
        new(File ?? file, RowGroup ?? rowGroup, Column ?? column, Problem, InnerException ?? this);

    private static string Describe(string? file, int? rowGroup, string? column, string problem)
    {
        var where = new List<string>(3) { $"Parquet file '{file ?? "(stream)"}'" };
        if (rowGroup is { } group)
        {
            where.Add($"row group {group}");
        }

        if (column is not null)
        {
            where.Add($"column '{column}'");
        }

        return $"{string.Join(", ", where)}: {problem}";
    }
}

namespace Sora.Data.Parquet;

/// <summary>How often a field occurs in its parent (the numbers are the format's).</summary>
public enum Repetition
{
    Required = 0,
    Optional = 1,
    Repeated = 2,
}

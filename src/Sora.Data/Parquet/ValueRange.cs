namespace Sora.Data.Parquet;

/// <summary>The values one row holds in a <see cref="ColumnValues"/>: <see cref="Count"/> values from <see cref="Start"/>, or null.</summary>
/// <param name="Start">Index of the row's first value among the column's non-null values.</param>
/// <param name="Count">1 for a present scalar, the element count for a list, 0 for null or empty.</param>
/// <param name="IsNull">The row's value (or list) is null.</param>
public readonly record struct ValueRange(int Start, int Count, bool IsNull);

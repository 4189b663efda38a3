namespace Sora.Data.Parquet.Metadata;

/// <summary>One entry of the footer's flattened (depth-first) schema list.</summary>
internal sealed record SchemaElement(string Name, PhysicalType? Type, int TypeLength, Repetition? Repetition, int NumChildren, int? ConvertedType, int? LogicalType)
{
    public const int ConvertedUtf8 = 0;
    public const int ConvertedList = 3;
    public const int ConvertedEnum = 4;
    public const int ConvertedJson = 19;

    /// <summary>Field ids inside the LogicalType union.</summary>
    public const int LogicalString = 1;
    public const int LogicalList = 3;
    public const int LogicalEnum = 4;
    public const int LogicalJson = 12;

    public LogicalKind Kind => (ConvertedType, LogicalType) switch
    {
        (_, LogicalString or LogicalEnum or LogicalJson) when Type == PhysicalType.ByteArray => LogicalKind.String,
        (ConvertedUtf8 or ConvertedEnum or ConvertedJson, null) when Type == PhysicalType.ByteArray => LogicalKind.String,
        (_, LogicalList) when Type is null => LogicalKind.List,
        (ConvertedList, null) when Type is null => LogicalKind.List,
        _ => LogicalKind.None,
    };
}

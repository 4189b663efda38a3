namespace Sora.Data.Parquet;

/// <summary>The logical annotations this library understands; anything else reads as its physical type.</summary>
public enum LogicalKind
{
    /// <summary>No annotation this library interprets.</summary>
    None,

    /// <summary>UTF-8 text in a BYTE_ARRAY (STRING logical type or UTF8 converted type).</summary>
    String,

    /// <summary>A group holding a list in the three-level layout (LIST).</summary>
    List,
}

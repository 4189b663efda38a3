namespace Sora.Data.Loading;

/// <summary>Reading planned rows failed; names the shard, the rows and the rank.</summary>
public sealed class DataLoadException : IOException
{
    public DataLoadException()
    {
    }

    public DataLoadException(string message)
        : base(message)
    {
    }

    public DataLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The row range being read when it failed, or null when the failure was not a read.</summary>
    public ShardRowRange? Range { get; init; }
}

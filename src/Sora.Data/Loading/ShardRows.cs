namespace Sora.Data.Loading;

/// <summary>Checks shared by shard readers.</summary>
public static class ShardRows
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the shard when [start, start + count) is not inside its rows.</summary>
    public static void CheckRange(string shardId, long rows, long start, int count)
    {
        if (start < 0 || count < 0 || start + count > rows)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"shard '{shardId}' has {rows} rows; cannot read rows [{start}, {start + count})");
        }
    }
}

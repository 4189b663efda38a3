namespace Sora.Data.Parquet;

/// <summary>
/// A stream whose reads are costly one by one (ranged Gets over the network): <see cref="ParquetFile"/> tells it the
/// byte range it is about to read (the footer, a column chunk), so the stream fetches that range in one request
/// instead of a request per page header Parquet.Net reads.
/// </summary>
public interface IRangeHint
{
    /// <summary>The next reads fall in [<paramref name="offset"/>, offset + <paramref name="length"/>).</summary>
    void WillRead(long offset, long length);
}

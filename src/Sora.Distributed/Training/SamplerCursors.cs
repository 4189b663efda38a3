using System.Text.Json;
using Sora.Data.Loading;

namespace Sora.Distributed.Training;

/// <summary>A bucket sampler's cursor as the JSON a checkpoint keeps.</summary>
internal static class SamplerCursors
{
    public static string Save<TKey>(BucketBatchSampler<TKey> sampler)
        where TKey : notnull =>
        JsonSerializer.Serialize(new { epoch = sampler.Cursor.Epoch, batch = sampler.Cursor.Batch });

    public static void Restore<TKey>(BucketBatchSampler<TKey> sampler, string cursor)
        where TKey : notnull
    {
        using var json = JsonDocument.Parse(cursor);
        var root = json.RootElement;
        sampler.Seek(new SamplerCursor(root.GetProperty("epoch").GetInt64(), root.GetProperty("batch").GetInt64()));
    }
}

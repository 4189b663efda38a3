namespace Sora.Checkpoint.Stores;

/// <summary>Conveniences over <see cref="ICheckpointStore"/> for small objects held in memory.</summary>
public static class CheckpointStoreExtensions
{
    /// <summary>Writes <paramref name="content"/> under <paramref name="name"/>.</summary>
    public static async Task<StoredObject> PutBytesAsync(this ICheckpointStore store, string name, ReadOnlyMemory<byte> content, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);
        await using (stream.ConfigureAwait(false))
        {
            return await store.PutAsync(name, stream, condition, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the whole object into memory.</summary>
    public static async Task<byte[]> ReadAllBytesAsync(this ICheckpointStore store, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var stream = await store.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = stream.CanSeek ? new MemoryStream(checked((int)stream.Length)) : new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
    }

    /// <summary>True when an object has the name.</summary>
    public static async Task<bool> ExistsAsync(this ICheckpointStore store, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return await store.GetPropertiesAsync(name, cancellationToken).ConfigureAwait(false) is not null;
    }
}

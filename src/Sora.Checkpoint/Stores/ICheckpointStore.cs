namespace Sora.Checkpoint.Stores;

/// <summary>
/// A flat namespace of immutable-once-written objects (checkpoint shards, manifests, pointers) addressed by
/// '/'-separated names. Every put is all-or-nothing: readers and listings see the old object or the new one,
/// never a partial one. Conditional puts (<see cref="PutCondition"/>) make compare-and-swap pointers possible.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>A short description of where objects live (a directory or a container URL), for messages.</summary>
    string Location { get; }

    /// <summary>
    /// Writes <paramref name="content"/> (read to its end) under <paramref name="name"/>, replacing any existing
    /// object unless <paramref name="condition"/> says otherwise, and returns the new object's properties.
    /// </summary>
    /// <exception cref="PreconditionFailedException">The condition did not hold; nothing was written.</exception>
    Task<StoredObject> PutAsync(string name, Stream content, PutCondition condition = default, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens the object for reading from its start. The stream reads one version of the object and carries that
    /// version's size and ETag (<see cref="StoredObjectStream.Properties"/>).
    /// </summary>
    /// <exception cref="StoredObjectNotFoundException">No object has that name.</exception>
    Task<StoredObjectStream> OpenReadAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The object's size and ETag, or null when no object has that name.</summary>
    Task<StoredObject?> GetPropertiesAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>All objects whose names start with <paramref name="prefix"/> (plain string prefix), in ordinal name order.</summary>
    IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes the object; returns false when there was none.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default);
}

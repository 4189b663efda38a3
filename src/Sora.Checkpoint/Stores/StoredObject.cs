namespace Sora.Checkpoint.Stores;

/// <summary>One object in a checkpoint store: its name, size in bytes, ETag (opaque; changes on every write) and last write time.</summary>
public sealed record StoredObject(string Name, long Size, string ETag, DateTimeOffset LastModified);

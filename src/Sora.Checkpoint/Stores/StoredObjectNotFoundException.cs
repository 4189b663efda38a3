namespace Sora.Checkpoint.Stores;

/// <summary>No object has the requested name (for Azure: the blob or its container is missing).</summary>
public sealed class StoredObjectNotFoundException : CheckpointStoreException
{
    public StoredObjectNotFoundException()
    {
    }

    public StoredObjectNotFoundException(string message)
        : base(message)
    {
    }

    public StoredObjectNotFoundException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public StoredObjectNotFoundException(string message, string objectName, int? httpStatus = null, string? errorCode = null, Exception? innerException = null)
        : base(message, objectName, httpStatus, errorCode, innerException)
    {
    }
}

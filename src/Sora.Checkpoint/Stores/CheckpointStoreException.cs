namespace Sora.Checkpoint.Stores;

/// <summary>
/// A checkpoint store operation failed. Carries the object name and, for HTTP stores, the status code and the
/// service's error code (x-ms-error-code), so callers and logs can tell a missing container from a bad key.
/// </summary>
public class CheckpointStoreException : IOException
{
    public CheckpointStoreException()
    {
    }

    public CheckpointStoreException(string message)
        : base(message)
    {
    }

    public CheckpointStoreException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public CheckpointStoreException(string message, string? objectName, int? httpStatus = null, string? errorCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        ObjectName = objectName;
        HttpStatus = httpStatus;
        ErrorCode = errorCode;
    }

    /// <summary>The object (blob or file) name the operation was about, or null for container-level operations.</summary>
    public string? ObjectName { get; }

    /// <summary>The HTTP status of the failed request, or null when no response came (or the store is local).</summary>
    public int? HttpStatus { get; }

    /// <summary>The service's error code (Azure's x-ms-error-code, e.g. BlobNotFound), or null.</summary>
    public string? ErrorCode { get; }
}

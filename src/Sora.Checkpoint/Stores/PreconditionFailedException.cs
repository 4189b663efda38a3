namespace Sora.Checkpoint.Stores;

/// <summary>A conditional put (If-Match / If-None-Match) found the object in another state; nothing was written.</summary>
public sealed class PreconditionFailedException : CheckpointStoreException
{
    public PreconditionFailedException()
    {
    }

    public PreconditionFailedException(string message)
        : base(message)
    {
    }

    public PreconditionFailedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public PreconditionFailedException(string message, string objectName, int? httpStatus = null, string? errorCode = null, Exception? innerException = null)
        : base(message, objectName, httpStatus, errorCode, innerException)
    {
    }
}

namespace Sora.Checkpoint.Sharded;

/// <summary>A checkpoint object (manifest, pointer or shard) that cannot be used as written; the message names the object and the field.</summary>
public class CheckpointFormatException : IOException
{
    public CheckpointFormatException(string objectName, string message, Exception? inner = null)
        : base($"{objectName}: {message}", inner)
    {
        ObjectName = objectName;
    }

    /// <summary>The object at fault.</summary>
    public string ObjectName { get; }
}

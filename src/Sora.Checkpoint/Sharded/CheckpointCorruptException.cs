namespace Sora.Checkpoint.Sharded;

/// <summary>A shard object whose bytes do not match the SHA-256 (or size) its manifest recorded.</summary>
public sealed class CheckpointCorruptException : CheckpointFormatException
{
    public CheckpointCorruptException(string objectName, string expectedSha256, string actualSha256, long expectedSize, long actualSize)
        : base(objectName, expectedSize == actualSize
            ? $"corrupt shard: SHA-256 is {actualSha256} but the manifest recorded {expectedSha256}"
            : $"corrupt shard: {actualSize} bytes (SHA-256 {actualSha256}) but the manifest recorded {expectedSize} bytes (SHA-256 {expectedSha256})")
    {
        ExpectedSha256 = expectedSha256;
        ActualSha256 = actualSha256;
    }

    /// <summary>The hash the manifest recorded (lower-case hex).</summary>
    public string ExpectedSha256 { get; }

    /// <summary>The hash of the bytes read (lower-case hex).</summary>
    public string ActualSha256 { get; }
}

namespace Sora.Distributed.Checkpointing;

/// <summary>
/// Something a stage's checkpoints must agree with to be resumed, kept in each manifest's metadata under
/// <see cref="Key"/>: the DiT stage records the SHA-256 of the VAE it was trained against, so it never goes on against
/// another one.
/// </summary>
/// <param name="Key">The manifest metadata key, e.g. <c>vae.sha256</c>.</param>
/// <param name="Value">This run's value.</param>
/// <param name="What">What the value identifies, for the refusal's message (e.g. "the VAE").</param>
public sealed record CheckpointIdentity(string Key, string Value, string What);

/// <summary>A checkpoint to resume was written against something else than this run has (<see cref="CheckpointIdentity"/>).</summary>
public sealed class CheckpointIdentityException : InvalidOperationException
{
    public CheckpointIdentityException(string message)
        : base(message)
    {
    }

    public CheckpointIdentityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CheckpointIdentityException()
    {
    }
}

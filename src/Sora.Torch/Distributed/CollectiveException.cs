namespace Sora.Torch.Distributed;

/// <summary>
/// A collective or rendezvous failed on this rank: a peer died or stalled past the timeout, or the
/// call was invalid. The message names this rank, the world size and the operation.
/// </summary>
public sealed class CollectiveException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public CollectiveException()
        : this("a collective operation failed")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public CollectiveException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public CollectiveException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for one rank's failed operation.</summary>
    public CollectiveException(int rank, int worldSize, string operation, Exception innerException)
        : base($"rank {rank} of {worldSize}: {operation} failed: {innerException.Message}", innerException)
    {
        Rank = rank;
        WorldSize = worldSize;
        Operation = operation;
    }

    /// <summary>The rank that observed the failure (-1 when unknown).</summary>
    public int Rank { get; } = -1;

    /// <summary>The group's world size (0 when unknown).</summary>
    public int WorldSize { get; }

    /// <summary>The operation that failed, e.g. <c>all_reduce</c>.</summary>
    public string Operation { get; } = "";
}

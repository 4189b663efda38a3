namespace Sora.Checkpoint.Stores;

/// <summary>
/// When a put may happen: always (<see cref="None"/>, the default), only if no object has the name yet
/// (<see cref="IfNotExists"/>, HTTP If-None-Match: *), or only if the current object still has a given ETag
/// (<see cref="IfMatch"/>). A failed condition raises <see cref="PreconditionFailedException"/>.
/// </summary>
public readonly record struct PutCondition
{
    private PutCondition(string? expectedETag, bool mustNotExist)
    {
        ExpectedETag = expectedETag;
        MustNotExist = mustNotExist;
    }

    /// <summary>The ETag the current object must have, or null.</summary>
    public string? ExpectedETag { get; }

    /// <summary>True when the put must create the object and fail if it already exists.</summary>
    public bool MustNotExist { get; }

    /// <summary>True when the put is unconditional.</summary>
    public bool IsNone => ExpectedETag is null && !MustNotExist;

    /// <summary>Unconditional: the last writer wins.</summary>
    public static PutCondition None => default;

    /// <summary>Create-only: fails when an object with the name exists.</summary>
    public static PutCondition IfNotExists => new(null, mustNotExist: true);

    /// <summary>Replace-only-if-unchanged: fails unless the current object exists and has <paramref name="etag"/>.</summary>
    public static PutCondition IfMatch(string etag)
    {
        ArgumentException.ThrowIfNullOrEmpty(etag);
        return new PutCondition(etag, mustNotExist: false);
    }

    /// <inheritdoc/>
    public override string ToString() => MustNotExist ? "If-None-Match: *" : ExpectedETag is { } e ? $"If-Match: {e}" : "unconditional";
}

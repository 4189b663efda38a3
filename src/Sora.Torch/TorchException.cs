namespace Sora.Torch;

/// <summary>What kind of failure libtorch or the shim reported.</summary>
public enum TorchErrorKind
{
    Torch = 1,
    Index = 2,
    Value = 3,
    Type = 4,
    NotImplemented = 5,
    Std = 6,
    Unknown = 7,
    Callback = 8,
    Argument = 9,
    OutOfMemory = 10,
}

/// <summary>A libtorch error carried across the native boundary, with libtorch's own message.</summary>
public sealed class TorchException : Exception
{
    public TorchException()
        : this(TorchErrorKind.Unknown, "libtorch error")
    {
    }

    public TorchException(string message)
        : this(TorchErrorKind.Unknown, message)
    {
    }

    public TorchException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = TorchErrorKind.Unknown;
    }

    public TorchException(TorchErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>The category of the native error.</summary>
    public TorchErrorKind Kind { get; }
}

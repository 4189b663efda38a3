namespace Sora.Data.Loading;

/// <summary>A saved data cursor does not belong to the dataset or sample order it is being resumed against.</summary>
public sealed class DataCursorMismatchException : InvalidOperationException
{
    public DataCursorMismatchException()
    {
    }

    public DataCursorMismatchException(string message)
        : base(message)
    {
    }

    public DataCursorMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

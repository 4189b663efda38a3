namespace Sora.Data.Loading;

/// <summary>One rank's slice of a global batch, and the global cursor to save once the step that used it is done.</summary>
/// <typeparam name="TSample">The row type.</typeparam>
/// <param name="Samples">The samples, in plan order.</param>
/// <param name="Addresses">Where each sample came from.</param>
/// <param name="CursorAfter">The global cursor after this global batch (the same on every rank).</param>
public sealed record LoadedBatch<TSample>(IReadOnlyList<TSample> Samples, IReadOnlyList<SampleAddress> Addresses, DataCursor CursorAfter);

namespace Sora.Data.Loading;

/// <summary>Where one sample lives: its global index in the dataset and the (shard, row) that holds it.</summary>
/// <param name="Index">Global sample index: rows of all earlier shards (in dataset order) plus <paramref name="Row"/>.</param>
/// <param name="Shard">Index of the shard in the dataset's shard list.</param>
/// <param name="Row">Row within the shard.</param>
public readonly record struct SampleAddress(long Index, int Shard, long Row);

using Sora.Checkpoint.Sharded;
using Sora.Torch;

namespace Sora.Checkpoint.Tests.Sharded;

/// <summary>
/// A small model's checkpoint state (weights of odd sizes and several dtypes, AdamW moments, an EMA) as full host
/// bytes, split over N ranks the way FSDP splits a flat parameter, with per-rank generator states and a cursor.
/// </summary>
internal sealed class ShardedTestModel
{
    public static readonly (string Name, TensorKind Kind, long[] Shape, ScalarType DType)[] Layout =
    [
        ("blocks.0.attn.qkv.weight", TensorKind.Model, [7, 5], ScalarType.Float32),
        ("blocks.0.attn.qkv.bias", TensorKind.Model, [7], ScalarType.Float32),
        ("embed.table", TensorKind.Model, [3, 2, 3], ScalarType.BFloat16),
        ("scalar", TensorKind.Model, [], ScalarType.Float64),
        ("empty", TensorKind.Model, [0, 4], ScalarType.Float32),
        ("optim/blocks.0.attn.qkv.weight/exp_avg", TensorKind.Optimizer, [7, 5], ScalarType.Float32),
        ("optim/blocks.0.attn.qkv.weight/exp_avg_sq", TensorKind.Optimizer, [7, 5], ScalarType.Float32),
        ("optim/blocks.0.attn.qkv.weight/step", TensorKind.Optimizer, [1], ScalarType.Int64),
        ("ema/blocks.0.attn.qkv.weight", TensorKind.Ema, [7, 5], ScalarType.Float32),
    ];

    public ShardedTestModel(int seed)
    {
        var random = new Random(seed);
        foreach (var (name, _, shape, dtype) in Layout)
        {
            var bytes = new byte[shape.Aggregate(1L, (a, b) => a * b) * dtype.ElementSize()];
            random.NextBytes(bytes);
            Full[name] = bytes;
        }
    }

    /// <summary>Each tensor's full row-major bytes.</summary>
    public Dictionary<string, byte[]> Full { get; } = new(StringComparer.Ordinal);

    public static string Cursor(long step) => $"{{\"epoch\":1,\"samples_consumed\":{step * 8},\"seed\":7,\"shard_window\":4,\"fingerprint\":\"sha256:ab\"}}";

    public static byte[] GeneratorState(long step, int rank) => [.. BitConverter.GetBytes(step), (byte)rank, 0xfe, 0x01];

    /// <summary>Rank <paramref name="rank"/>'s contents among <paramref name="worldSize"/>; the local tensors are added to <paramref name="owned"/> for the caller to dispose.</summary>
    public CheckpointContents Contents(long step, int rank, int worldSize, List<Tensor> owned)
    {
        var specs = new List<ShardedTensorSpec>();
        foreach (var (name, kind, shape, dtype) in Layout)
        {
            var numel = shape.Aggregate(1L, (a, b) => a * b);
            var block = (numel + worldSize - 1) / worldSize;
            var start = Math.Min(numel, rank * block);
            var end = Math.Min(numel, start + block);
            var size = dtype.ElementSize();
            var local = Tensor.FromBytes(Full[name].AsSpan((int)(start * size), (int)((end - start) * size)), [end - start], dtype).DetachFromDisposeScope();
            owned.Add(local);
            specs.Add(new ShardedTensorSpec(name, kind, shape, dtype, start, end, local));
        }

        return new CheckpointContents(
            step,
            rank,
            worldSize,
            "config-sha256:0123",
            specs,
            new Dictionary<string, byte[]> { ["cpu"] = GeneratorState(step, rank) },
            Cursor(step),
            SchedulePosition: step + 1000,
            Metadata: new Dictionary<string, string> { ["model"] = "dit-s" });
    }

    /// <summary>Writes a whole world of <paramref name="worldSize"/> ranks and commits it.</summary>
    public async Task<CheckpointManifest> WriteWorldAsync(ShardedCheckpointWriter writer, long step, int worldSize)
    {
        var owned = new List<Tensor>();
        try
        {
            var ranks = Enumerable.Range(0, worldSize).Select(r => Contents(step, r, worldSize, owned)).ToList();
            return await writer.WriteWorldAsync(ranks);
        }
        finally
        {
            owned.ForEach(t => t.Dispose());
        }
    }

    public static byte[] BytesOf(Tensor tensor)
    {
        var bytes = new byte[tensor.ByteCount];
        tensor.CopyBytesTo(bytes);
        return bytes;
    }
}

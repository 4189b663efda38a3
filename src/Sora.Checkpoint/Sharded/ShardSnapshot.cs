using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// One rank's checkpoint contents copied to host memory, so that training may go on changing the tensors while
/// the snapshot is serialised and uploaded (<see cref="ShardedCheckpointWriter.StartWriteShard"/>).
/// </summary>
public sealed class ShardSnapshot
{
    private ShardSnapshot(CheckpointContents header, IReadOnlyList<HostTensorRange> ranges)
    {
        Header = header;
        Ranges = ranges;
    }

    /// <summary>The run-wide values and this rank's generator states; its <c>Tensors</c> list is empty.</summary>
    public CheckpointContents Header { get; }

    /// <summary>The host copies, in ordinal name order.</summary>
    public IReadOnlyList<HostTensorRange> Ranges { get; }

    /// <summary>Bytes of tensor data held.</summary>
    public long DataBytes => Ranges.Sum(r => (long)r.Data.Length);

    /// <summary>
    /// Checks <paramref name="contents"/> and copies every local tensor (from any device) into host memory. This is the only
    /// part of a save that must happen before the next optimizer step. With <paramref name="buffers"/>, host memory comes
    /// from (and should go back to) that pool.
    /// </summary>
    public static ShardSnapshot Capture(CheckpointContents contents, HostBufferPool? buffers = null)
    {
        ArgumentNullException.ThrowIfNull(contents);
        if (contents.WorldSize < 1 || contents.Rank < 0 || contents.Rank >= contents.WorldSize)
        {
            throw new ArgumentException($"rank {contents.Rank} of world size {contents.WorldSize} is not a rank", nameof(contents));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(contents.Step);
        ArgumentNullException.ThrowIfNull(contents.ConfigHash);
        CheckCursor(contents);
        var ranges = new List<HostTensorRange>(contents.Tensors.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in contents.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            Check(spec, contents.Rank, names);
            var length = checked((int)((spec.End - spec.Start) * spec.DType.ElementSize()));
            var data = buffers?.Rent(length) ?? GC.AllocateUninitializedArray<byte>(length);
            using (Tensor.NewDisposeScope())
            {
                spec.Local.To(Device.Cpu).Contiguous().CopyBytesTo(data);
            }

            ranges.Add(new HostTensorRange(spec.Name, spec.Kind, [.. spec.Shape], spec.DType, spec.Start, spec.End, data));
        }

        var states = (contents.GeneratorStates ?? new Dictionary<string, byte[]>()).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
        var header = contents with { Tensors = [], GeneratorStates = states, Metadata = contents.Metadata?.ToDictionary(StringComparer.Ordinal) };
        return new ShardSnapshot(header, ranges);
    }

    private static void CheckCursor(CheckpointContents contents)
    {
        if (contents.DataCursor is null)
        {
            return;
        }

        try
        {
            System.Text.Json.Nodes.JsonNode.Parse(contents.DataCursor);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ArgumentException($"rank {contents.Rank}, step {contents.Step}: the data cursor is not JSON ({e.Message})", nameof(contents), e);
        }
    }

    private static void Check(ShardedTensorSpec spec, int rank, HashSet<string> names)
    {
        var at = $"rank {rank}, tensor '{spec.Name}'";
        if (spec.Name.Length == 0 || spec.Name == "__metadata__" || spec.Name.Any(char.IsControl))
        {
            throw new ArgumentException($"{at}: not a valid tensor name");
        }

        if (!names.Add(spec.Name))
        {
            throw new ArgumentException($"{at}: the name appears twice on this rank");
        }

        if (spec.Shape.Any(s => s < 0))
        {
            throw new ArgumentException($"{at}: negative size in shape [{string.Join(", ", spec.Shape)}]");
        }

        var numel = spec.FullNumel;
        if (spec.Start < 0 || spec.End < spec.Start || spec.End > numel)
        {
            throw new ArgumentException($"{at}: range [{spec.Start}, {spec.End}) is outside the tensor's {numel} elements");
        }

        if (spec.Local.NumElements != spec.End - spec.Start)
        {
            throw new ArgumentException($"{at}: the local tensor has {spec.Local.NumElements} elements but the range [{spec.Start}, {spec.End}) has {spec.End - spec.Start}");
        }

        if (spec.Local.DType != spec.DType)
        {
            throw new ArgumentException($"{at}: the local tensor is {spec.Local.DType.Name()} but the spec says {spec.DType.Name()}");
        }
    }
}

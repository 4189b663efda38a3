using Sora.Torch;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// The tensors a rank asked for (new CPU tensors, owned by this object until taken) and the checkpoint's manifest,
/// which carries the data cursor, schedule position and every source rank's generator states. <see cref="Warnings"/>
/// lists checkpoints skipped on the way (by <see cref="ShardedCheckpointReader.LoadLatestValidAsync"/>).
/// </summary>
public sealed class LoadedCheckpoint(CheckpointManifest manifest, string manifestObject, Dictionary<string, Tensor> tensors, IReadOnlyList<string> warnings) : IDisposable
{
    /// <summary>The manifest loaded.</summary>
    public CheckpointManifest Manifest { get; } = manifest;

    /// <summary>The manifest's object name.</summary>
    public string ManifestObject { get; } = manifestObject;

    /// <summary>The requested tensors by name: full ones in their shape, ranges as 1-D tensors.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors => tensors;

    /// <summary>Why newer checkpoints were not loaded; empty when the first choice loaded.</summary>
    public IReadOnlyList<string> Warnings { get; } = warnings;

    /// <summary>The step of the checkpoint.</summary>
    public long Step => Manifest.Step;

    /// <summary>A source rank's generator states (by generator name); when resuming on another world size the trainer chooses which rank's to use.</summary>
    public IReadOnlyDictionary<string, byte[]> GeneratorStates(int sourceRank) => Manifest.Shards[sourceRank].GeneratorStates;

    /// <summary>Disposes the tensors not yet taken.</summary>
    public void Dispose()
    {
        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }

        tensors.Clear();
    }
}

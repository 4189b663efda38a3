namespace Sora.Checkpoint.Sharded;

/// <summary>
/// What one rank contributes to a checkpoint at one step: its shards of the model, optimizer and EMA tensors
/// and its generator states, plus the run-wide values (the same on every rank; rank 0's go into the manifest).
/// </summary>
/// <param name="Step">The training step the checkpoint was taken after.</param>
/// <param name="Rank">This rank.</param>
/// <param name="WorldSize">Ranks writing the checkpoint.</param>
/// <param name="ConfigHash">A hash of the training configuration, to refuse a resume under a different one.</param>
/// <param name="Tensors">This rank's ranges of every checkpointed tensor.</param>
/// <param name="GeneratorStates">This rank's random generator states by generator name (e.g. "cpu", "cuda:0").</param>
/// <param name="DataCursor">The data loader's global cursor as JSON (e.g. <c>DataCursor.ToJson()</c>), or null.</param>
/// <param name="SchedulePosition">The learning-rate schedule's position (usually the step).</param>
/// <param name="Metadata">Any further string values to keep in the manifest.</param>
public sealed record CheckpointContents(
    long Step,
    int Rank,
    int WorldSize,
    string ConfigHash,
    IReadOnlyList<ShardedTensorSpec> Tensors,
    IReadOnlyDictionary<string, byte[]>? GeneratorStates = null,
    string? DataCursor = null,
    long SchedulePosition = 0,
    IReadOnlyDictionary<string, string>? Metadata = null);

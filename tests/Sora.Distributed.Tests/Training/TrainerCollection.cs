namespace Sora.Distributed.Tests.Training;

/// <summary>Trainer tests seed libtorch's process-wide generator and listen to the process-wide meter: run them alone.</summary>
[CollectionDefinition(nameof(TrainerTests), DisableParallelization = true)]
public sealed class TrainerCollection;

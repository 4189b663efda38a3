namespace Sora.Model.Tests.Support;

/// <summary>
/// Tests that seed libtorch's process-wide generator and depend on the numbers drawn next (initialisation,
/// sampling). They run alone, so no other test draws from the generator in between.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRandomCollection
{
    public const string Name = "libtorch global generator";
}

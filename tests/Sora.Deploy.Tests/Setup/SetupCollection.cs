namespace Sora.Deploy.Tests.Setup;

/// <summary>
/// Runs alone: a bootstrap may unpack tools/bin/helm again while the chart tests would be running it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SetupCollection
{
    public const string Name = "Set-up";
}

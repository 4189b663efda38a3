using Sora.Netns;
namespace Sora.Cluster.Tests.Harness;

/// <summary>
/// A test that needs a <see cref="NetnsCluster"/>: where the machine cannot make one it is skipped with the
/// reason, except under CI=true, where it runs and fails with that reason (a CI that silently skips the
/// cluster's fault tests would pass without testing anything).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute() => Skip = NetnsRequirement.SkipReason();
}

/// <summary>The <see cref="TheoryAttribute"/> form of <see cref="NetnsFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NetnsTheoryAttribute : TheoryAttribute
{
    public NetnsTheoryAttribute() => Skip = NetnsRequirement.SkipReason();
}

internal static class NetnsRequirement
{
    /// <summary>Null when the test must run: the machine supports namespace clusters, or CI demands the failure.</summary>
    public static string? SkipReason() =>
        NetnsCluster.IsSupported(out var why) || NetnsCluster.RunningUnderCi ? null : $"needs network namespaces: {why}";
}

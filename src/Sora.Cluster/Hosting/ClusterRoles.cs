namespace Sora.Cluster;

/// <summary>The cluster roles of the control plane's processes.</summary>
public static class ClusterRoles
{
    public const string Coordinator = "coordinator";

    public const string Agent = "agent";

    /// <summary>The actor system's name: every node of a job uses it (Akka joins only systems of the same name).</summary>
    public const string SystemName = "sora";
}

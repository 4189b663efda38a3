namespace Sora.Netns;

/// <summary>How <see cref="NetnsCluster.Cut"/> takes a host off the network.</summary>
internal enum CutMode
{
    /// <summary>Every packet to and from the host vanishes while its link stays up: a real partition.</summary>
    PacketLoss,

    /// <summary>The host's port on the bridge goes down: the host sees its link lose carrier.</summary>
    LinkDown,
}

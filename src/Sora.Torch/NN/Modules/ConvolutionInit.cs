namespace Sora.Torch.NN;

/// <summary>The initialisation torch's convolution modules share.</summary>
internal static class ConvolutionInit
{
    public static void CheckGroups(long inChannels, long outChannels, long groups)
    {
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
        {
            throw new ArgumentException($"convolution: {inChannels} input and {outChannels} output channels must both divide into {groups} groups", nameof(groups));
        }
    }

    /// <summary>Kaiming uniform (a = √5) weights and U(±1/√fan_in) bias.</summary>
    public static void Reset(Tensor weight, Tensor? bias, long fanIn)
    {
        Init.KaimingUniform_(weight, Math.Sqrt(5));
        if (bias is not null)
        {
            var bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
            Init.Uniform_(bias, -bound, bound);
        }
    }
}

using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Vae;

/// <summary>
/// Doubles height and width (and time, when asked) by nearest-neighbour repetition, then mixes with a causal 3×3×3
/// convolution. Repetition followed by a convolution avoids the checkerboard artefacts of strided transposed convolutions.
/// </summary>
internal sealed class VideoUpsample : Module<Tensor, Tensor>
{
    private readonly long _temporalFactor;

    public VideoUpsample(long inChannels, long outChannels, bool upsampleTime)
    {
        _temporalFactor = upsampleTime ? 2 : 1;
        Conv = RegisterModule("conv", new CausalConv3d(inChannels, outChannels));
    }

    public CausalConv3d Conv { get; }

    public override Tensor Forward(Tensor input)
    {
        var shape = input.Shape;
        var upsampled = Functional.Interpolate(input, [shape[2] * _temporalFactor, shape[3] * 2, shape[4] * 2]);
        return Conv.Forward(upsampled);
    }
}

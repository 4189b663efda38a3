using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Vae;

/// <summary>
/// A 3-D convolution that is causal in time: frames are padded only at the front, with copies of the first frame,
/// so output frame j sees no input frame after the block it stands for. Height and width are zero-padded symmetrically.
/// </summary>
/// <remarks>
/// With kernel k and temporal stride s the front padding is k − s, so T frames (T a multiple of s) give T / s outputs,
/// and output j sees input frames up to s·j + s − 1: the frames of its own block and earlier ones, never later blocks.
/// Replicating the first frame rather than padding zeros keeps a still video still at its start.
/// </remarks>
internal sealed class CausalConv3d : Module<Tensor, Tensor>
{
    private readonly long _frontPadding;
    private readonly long _spatialPadding;

    public CausalConv3d(long inChannels, long outChannels, long kernelSize = 3, long temporalStride = 1, long spatialStride = 1)
    {
        if (temporalStride > kernelSize)
        {
            throw new ArgumentException($"a temporal stride of {temporalStride} would skip frames of a kernel of {kernelSize}", nameof(temporalStride));
        }

        _frontPadding = kernelSize - temporalStride;
        var spatialPadding = kernelSize / 2;
        var rep = Environment.GetEnvironmentVariable("SPREP") == "1";
        _spatialPadding = rep ? spatialPadding : 0;
        Conv = RegisterModule("conv", new Conv3d(inChannels, outChannels, (kernelSize, kernelSize, kernelSize),
            stride: (temporalStride, spatialStride, spatialStride), padding: (0, rep ? 0 : spatialPadding, rep ? 0 : spatialPadding)));
    }

    public Conv3d Conv { get; }

    public override Tensor Forward(Tensor input)
    {
        var padded = _frontPadding > 0 ? input.Pad([_spatialPadding, _spatialPadding, _spatialPadding, _spatialPadding, _frontPadding, 0], PaddingMode.Replicate) : input;
        return Conv.Forward(padded);
    }
}

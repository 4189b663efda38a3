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
/// Copies of the first frame rather than zeros keep a still video still at its start. The copies are concatenated
/// rather than made by replicate padding, which libtorch runs several times slower (forward and backward).
/// </remarks>
internal sealed class CausalConv3d : Module<Tensor, Tensor>
{
    private readonly long _frontPadding;

    private readonly long _spatialStride;

    private readonly long _spatialPadding;

    public CausalConv3d(long inChannels, long outChannels, long kernelSize = 3, long temporalStride = 1, long spatialStride = 1)
    {
        if (temporalStride > kernelSize)
        {
            throw new ArgumentException($"a temporal stride of {temporalStride} would skip frames of a kernel of {kernelSize}", nameof(temporalStride));
        }

        _frontPadding = kernelSize - temporalStride;
        var spatialPadding = kernelSize / 2;
        (_spatialStride, _spatialPadding) = (spatialStride, spatialPadding);
        Conv = RegisterModule("conv", new Conv3d(inChannels, outChannels, (kernelSize, kernelSize, kernelSize),
            stride: (temporalStride, spatialStride, spatialStride), padding: (0, spatialPadding, spatialPadding)));
    }

    public Conv3d Conv { get; }

    public override Tensor Forward(Tensor input)
    {
        if (_frontPadding == 0)
        {
            return Conv.Forward(input);
        }

        var shape = input.Shape;
        if (shape[2] == 1 && _frontPadding == Conv.Weight.Size(2) - 1)
        {
            // One frame (an image, or a clip of one latent frame): the padding repeats it, so every temporal tap sees the
            // same frame and the 3-D convolution is exactly a 2-D one with the taps summed, at a third of the work.
            using var scope = Tensor.NewDisposeScope();
            var flat = Functional.Conv2d(input.Squeeze(2), Conv.Weight.Sum(2), Conv.Bias, (_spatialStride, _spatialStride), (_spatialPadding, _spatialPadding));
            return scope.MoveToOuter(flat.Unsqueeze(2));
        }

        var firstFrame = input.Narrow(2, 0, 1).Expand(shape[0], shape[1], _frontPadding, shape[3], shape[4]);
        return Conv.Forward(Tensor.Cat([firstFrame, input], dim: 2));
    }
}

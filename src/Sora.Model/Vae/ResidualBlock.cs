using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Vae;

/// <summary>Pre-activation residual block: x + conv(silu(norm(conv(silu(norm(x)))))), with a 1×1×1 projection when the channel count changes.</summary>
internal sealed class ResidualBlock : Module<Tensor, Tensor>
{
    public ResidualBlock(long inChannels, long outChannels, long groups)
    {
        Norm1 = RegisterModule("norm1", new FrameGroupNorm(groups, inChannels));
        Conv1 = RegisterModule("conv1", new CausalConv3d(inChannels, outChannels));
        Norm2 = RegisterModule("norm2", new FrameGroupNorm(groups, outChannels));
        Conv2 = RegisterModule("conv2", new CausalConv3d(outChannels, outChannels));
        Shortcut = inChannels == outChannels ? null : RegisterModule("shortcut", new Conv3d(inChannels, outChannels, kernelSize: 1));
    }

    public FrameGroupNorm Norm1 { get; }

    public CausalConv3d Conv1 { get; }

    public FrameGroupNorm Norm2 { get; }

    public CausalConv3d Conv2 { get; }

    public Conv3d? Shortcut { get; }

    public override Tensor Forward(Tensor input)
    {
        var h = Conv1.Forward(Norm1.Forward(input).Silu());
        h = Conv2.Forward(Norm2.Forward(h).Silu());
        var skip = Shortcut?.Forward(input) ?? input;
        return skip.Add(h);
    }
}

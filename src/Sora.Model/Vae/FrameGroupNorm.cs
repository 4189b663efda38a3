using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Vae;

/// <summary>
/// GroupNorm over each frame on its own: statistics over (channels of a group, H, W) per frame, as an image
/// GroupNorm applied frame by frame. Statistics over the whole clip would let later frames change earlier ones.
/// </summary>
internal sealed class FrameGroupNorm : Module<Tensor, Tensor>
{
    public FrameGroupNorm(long groups, long channels)
    {
        Norm = RegisterModule("norm", new GroupNorm(groups, channels, eps: 1e-6));
    }

    public GroupNorm Norm { get; }

    public override Tensor Forward(Tensor input)
    {
        var shape = input.Shape;
        var (n, c, t, h, w) = (shape[0], shape[1], shape[2], shape[3], shape[4]);
        var frames = input.Permute(0, 2, 1, 3, 4).Reshape(n * t, c, h, w);
        return Norm.Forward(frames).View(n, t, c, h, w).Permute(0, 2, 1, 3, 4);
    }
}

using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Vae;

/// <summary>
/// The encoder or decoder of a patch-stem VAE: one strided "patch" convolution with kernel = stride =
/// (tf, sf, sf) takes pixels straight to the latent grid (a transposed one takes it back), and residual
/// blocks of causal 3×3×3 convolutions work at that coarse resolution. On a CPU this trains an order of
/// magnitude faster than the hierarchical tower (measured on moving shapes, 32×32×8: colour and motion of the
/// reconstructions are right for 48/48 held-out clips after 600 steps, about a minute), because no layer runs
/// at full resolution; the price is blockier fine detail, which the hierarchical tower handles better.
/// </summary>
internal sealed class PatchVaeTower : Module<Tensor, Tensor>
{
    private readonly bool _decoder;

    public PatchVaeTower(VaeConfig config, bool decoder)
    {
        _decoder = decoder;
        var width = config.BaseChannels;
        var kernel = ((long)config.TemporalDownsample, (long)config.SpatialDownsample, (long)config.SpatialDownsample);
        if (decoder)
        {
            Input = RegisterModule("conv_in", new Conv3d(config.LatentChannels, width, kernelSize: 1));
        }
        else
        {
            Stem = RegisterModule("patch_conv", new Conv3d(config.InputChannels, width, kernel, stride: kernel));
        }

        Blocks = RegisterModule("blocks", new ModuleList<PatchResidual>(Enumerable.Range(0, config.ResidualBlocksPerLevel).Select(_ => new PatchResidual(width))));
        if (decoder)
        {
            var head = config.PixelHeadChannels;
            Unpatch = RegisterModule("patch_conv_transpose", new ConvTranspose3d(width, head > 0 ? head : config.InputChannels, kernel, stride: kernel));
            if (head > 0)
            {
                PixelHead = RegisterModule("pixel_head", new ModuleList<Conv2d>([new Conv2d(head, head, 3, padding: 1), new Conv2d(head, config.InputChannels, 3, padding: 1)]));
            }
        }
        else
        {
            Output = RegisterModule("conv_out", new Conv3d(width, 2L * config.LatentChannels, kernelSize: 1));
            VideoVae.StartWithSmallPosteriorVariance(Output, config.LatentChannels);
        }
    }

    public Conv3d? Stem { get; }

    public Conv3d? Input { get; }

    public ModuleList<PatchResidual> Blocks { get; }

    public Conv3d? Output { get; }

    public ConvTranspose3d? Unpatch { get; }

    /// <summary>The decoder's per-frame pixel convolutions (<see cref="VaeConfig.PixelHeadChannels"/>), or null.</summary>
    public ModuleList<Conv2d>? PixelHead { get; }

    public override Tensor Forward(Tensor input)
    {
        using var scope = Tensor.NewDisposeScope();
        var h = _decoder ? Input!.Forward(input).Silu() : Stem!.Forward(input).Silu();
        foreach (var block in Blocks)
        {
            h = block.Forward(h);
        }

        return scope.MoveToOuter(_decoder ? Pixels(Unpatch!.Forward(h)) : Output!.Forward(h));
    }

    // (N, C, T, H, W) features per pixel to colours, frame by frame, through the pixel head where there is one.
    private Tensor Pixels(Tensor features)
    {
        if (PixelHead is null)
        {
            return features;
        }

        var (n, c, t, height, width) = (features.Size(0), features.Size(1), features.Size(2), features.Size(3), features.Size(4));
        var h = features.Permute(0, 2, 1, 3, 4).Reshape(n * t, c, height, width);
        h = PixelHead[1].Forward(PixelHead[0].Forward(h.Silu()).Silu());
        var colours = h.Size(1);
        return h.Reshape(n, t, colours, height, width).Permute(0, 2, 1, 3, 4);
    }
}

/// <summary>x + SiLU(causal 3×3×3 convolution of x).</summary>
internal sealed class PatchResidual : Module<Tensor, Tensor>
{
    public PatchResidual(long channels)
    {
        Conv = RegisterModule("conv", new CausalConv3d(channels, channels));
    }

    public CausalConv3d Conv { get; }

    public override Tensor Forward(Tensor input) => input.Add(Conv.Forward(input).Silu());
}

using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Vae;

/// <summary>What the encoder and decoder share: a chain of named layers, then GroupNorm, SiLU and an output convolution.</summary>
internal abstract class VaeTower : Module<Tensor, Tensor>
{
    private readonly List<Module<Tensor, Tensor>> _body = [];
    private (FrameGroupNorm Norm, CausalConv3d Conv)? _head;

    /// <summary>The output convolution (conv_out); set by <see cref="AddHead"/>.</summary>
    protected CausalConv3d OutputConv => _head?.Conv ?? throw new InvalidOperationException($"{GetType().Name} has no output layers yet");

    public override Tensor Forward(Tensor input)
    {
        var (norm, conv) = _head ?? throw new InvalidOperationException($"{GetType().Name} was built without its output layers");
        var x = input;
        foreach (var layer in _body)
        {
            x = layer.Forward(x);
        }

        return conv.Forward(norm.Forward(x).Silu());
    }

    protected void AddLayer(string name, Module<Tensor, Tensor> layer) => _body.Add(RegisterModule(name, layer));

    /// <summary>Adds the output layers (norm_out, conv_out); call once, last.</summary>
    protected void AddHead(long groups, long channels, long outChannels) =>
        _head = (RegisterModule("norm_out", new FrameGroupNorm(groups, channels)), RegisterModule("conv_out", new CausalConv3d(channels, outChannels)));
}

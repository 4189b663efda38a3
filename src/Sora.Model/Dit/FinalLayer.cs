using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Dit;

/// <summary>adaLN-modulated norm and a zero-initialised projection from hidden to patch values.</summary>
public sealed class FinalLayer : Module
{
    public FinalLayer(int hidden, int patchVolume)
    {
        Norm = RegisterModule("norm_final", new LayerNorm(hidden, eps: 1e-6, elementwiseAffine: false));
        Projection = RegisterModule("linear", new Linear(hidden, patchVolume));
        AdaLN = RegisterModule("adaLN_modulation", new Linear(hidden, 2 * hidden));
        Init.Zeros_(Projection.Weight);
        Init.Zeros_(Projection.Bias!);
        Init.Zeros_(AdaLN.Weight);
        Init.Zeros_(AdaLN.Bias!);
    }

    public LayerNorm Norm { get; }

    public Linear Projection { get; }

    public Linear AdaLN { get; }

    public Tensor Forward(Tensor x, Conditioning conditioning)
    {
        using var scope = Tensor.NewDisposeScope();
        var m = conditioning.Modulation(AdaLN.Forward, 2);
        return scope.MoveToOuter(Projection.Forward(Conditioning.Modulate(Norm.Forward(x), m[0], m[1])));
    }
}

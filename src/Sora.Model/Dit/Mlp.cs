using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Dit;

/// <summary>Linear → GELU (tanh) → Linear.</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    public Mlp(int dim, int hiddenDim)
    {
        Up = RegisterModule("fc1", new Linear(dim, hiddenDim));
        Down = RegisterModule("fc2", new Linear(hiddenDim, dim));
        Init.XavierUniform_(Up.Weight);
        Init.XavierUniform_(Down.Weight);
        Init.Zeros_(Up.Bias!);
        Init.Zeros_(Down.Bias!);
    }

    public Linear Up { get; }

    public Linear Down { get; }

    public override Tensor Forward(Tensor input) => Down.Forward(Up.Forward(input).Gelu(tanhApproximation: true));
}

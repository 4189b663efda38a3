using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Dit;

/// <summary>Embeds diffusion times t ∈ [0, 1] with a sinusoid (of 1000·t) followed by a two-layer MLP.</summary>
public sealed class TimestepEmbedder : Module<Tensor, Tensor>
{
    private readonly int _frequencies;

    public TimestepEmbedder(int hidden, int frequencies = 256)
    {
        _frequencies = frequencies;
        First = RegisterModule("fc1", new Linear(frequencies, hidden));
        Second = RegisterModule("fc2", new Linear(hidden, hidden));
        Init.Normal_(First.Weight, 0, 0.02);
        Init.Normal_(Second.Weight, 0, 0.02);
    }

    public Linear First { get; }

    public Linear Second { get; }

    /// <summary>t: (N) → (N, hidden).</summary>
    public override Tensor Forward(Tensor input) => Second.Forward(First.Forward(Sinusoid(input, _frequencies).To(First.Weight.DType)).Silu());

    /// <summary>[cos(1000·t·ω_i), sin(1000·t·ω_i)], ω_i = 10000^(−i/half), as in DiT.</summary>
    public static Tensor Sinusoid(Tensor t, int frequencies)
    {
        using var scope = Tensor.NewDisposeScope();
        var half = frequencies / 2;
        var omega = Tensor.Arange(0.0, half, 1.0, ScalarType.Float32, t.Device).Mul(-Math.Log(10000) / half).Exp();
        var angles = t.To(ScalarType.Float32).Mul(1000).Unsqueeze(1).Mul(omega.Unsqueeze(0));
        return scope.MoveToOuter(Tensor.Cat([angles.Cos(), angles.Sin()], 1));
    }
}

namespace Sora.Torch.NN;

/// <summary>Layer normalisation over the trailing dims, with optional learned scale and shift.</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    private readonly long[] _normalizedShape;

    public LayerNorm(long[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, bool bias = true)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        _normalizedShape = (long[])normalizedShape.Clone();
        Eps = eps;
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(_normalizedShape));
            if (bias)
            {
                Bias = RegisterParameter("bias", Tensor.Zeros(_normalizedShape));
            }
        }
    }

    public LayerNorm(long normalizedSize, double eps = 1e-5, bool elementwiseAffine = true, bool bias = true)
        : this([normalizedSize], eps, elementwiseAffine, bias)
    {
    }

    public double Eps { get; }

    public Tensor? Weight { get; }

    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor input) => Functional.LayerNorm(input, _normalizedShape, Weight, Bias, Eps);
}

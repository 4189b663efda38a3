namespace Sora.Torch.NN;

/// <summary>A lookup table of <c>count</c> vectors of size <c>dim</c>, initialised N(0, 1).</summary>
public sealed class Embedding : Module<Tensor, Tensor>
{
    public Embedding(long count, long dim)
    {
        Count = count;
        EmbeddingDim = dim;
        Weight = RegisterParameter("weight", Tensor.Empty([count, dim]));
        Init.Normal_(Weight);
    }

    public long Count { get; }

    public long EmbeddingDim { get; }

    public Tensor Weight { get; }

    public override Tensor Forward(Tensor input) => Functional.Embedding(input, Weight);
}

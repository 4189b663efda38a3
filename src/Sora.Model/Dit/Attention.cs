using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Dit;

/// <summary>
/// Multi-head attention. Self-attention when no context is given; cross-attention to a context
/// sequence otherwise. The mask is bool, broadcastable to (N, heads, L, S), true where a query may
/// attend to a key: packed samples get a block-diagonal mask so they never see each other.
/// </summary>
public sealed class Attention : Module
{
    private readonly int _heads;
    private readonly bool _cross;

    public Attention(int dim, int heads, int? contextDim = null)
    {
        if (dim % heads != 0)
        {
            throw new ArgumentException($"attention width {dim} is not a multiple of {heads} heads", nameof(heads));
        }

        _heads = heads;
        _cross = contextDim.HasValue;
        if (_cross)
        {
            Query = RegisterModule("q", new Linear(dim, dim));
            KeyValue = RegisterModule("kv", new Linear(contextDim!.Value, 2 * dim));
            Init.XavierUniform_(Query.Weight);
            Init.XavierUniform_(KeyValue.Weight);
            Init.Zeros_(Query.Bias!);
            Init.Zeros_(KeyValue.Bias!);
        }
        else
        {
            QueryKeyValue = RegisterModule("qkv", new Linear(dim, 3 * dim));
            Init.XavierUniform_(QueryKeyValue.Weight);
            Init.Zeros_(QueryKeyValue.Bias!);
        }

        Output = RegisterModule("proj", new Linear(dim, dim));
        Init.XavierUniform_(Output.Weight);
        Init.Zeros_(Output.Bias!);
    }

    public Linear? QueryKeyValue { get; }

    public Linear? Query { get; }

    public Linear? KeyValue { get; }

    public Linear Output { get; }

    /// <summary>x: (N, L, D); context: (N, S, Dc) for cross-attention; mask: bool broadcastable to (N, heads, L, S).</summary>
    public Tensor Forward(Tensor x, Tensor? context = null, Tensor? mask = null)
    {
        using var scope = Tensor.NewDisposeScope();
        var (n, l, d) = (x.Size(0), x.Size(1), x.Size(2));
        var headDim = d / _heads;
        Tensor q, k, v;
        if (_cross)
        {
            ArgumentNullException.ThrowIfNull(context);
            var s = context.Size(1);
            q = Query!.Forward(x).Reshape(n, l, _heads, headDim).Transpose(1, 2);
            var kv = KeyValue!.Forward(context).Reshape(n, s, 2, _heads, headDim).Permute(2, 0, 3, 1, 4);
            k = kv.Select(0, 0);
            v = kv.Select(0, 1);
        }
        else
        {
            var qkv = QueryKeyValue!.Forward(x).Reshape(n, l, 3, _heads, headDim).Permute(2, 0, 3, 1, 4);
            q = qkv.Select(0, 0);
            k = qkv.Select(0, 1);
            v = qkv.Select(0, 2);
        }

        var attended = Functional.ScaledDotProductAttention(q, k, v, mask);
        return scope.MoveToOuter(Output.Forward(attended.Transpose(1, 2).Reshape(n, l, d)));
    }
}

using Sora.Model.Dit;
using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Text;

/// <summary>
/// A small transformer over caption tokens: embeddings plus learned positions, a few pre-norm layers,
/// then a masked mean as the pooled caption vector. An empty caption (all padding) maps to a learned
/// "no caption" vector: the unconditional input of classifier-free guidance.
/// </summary>
public sealed class TextEncoder : Module
{
    private readonly int _maxTokens;

    public TextEncoder(int vocabularySize, DiTConfig config)
    {
        _maxTokens = config.MaxTextTokens;
        var dim = config.TextDim;
        var heads = dim % 4 == 0 && dim / 4 % 2 == 0 ? 4 : 1;
        TokenEmbedding = RegisterModule("token_embedding", new Embedding(vocabularySize, dim));
        Init.Normal_(TokenEmbedding.Weight, 0, 0.02);
        Positions = RegisterParameter("position_embedding", Init.Normal_(Tensor.Empty([config.MaxTextTokens, dim]), 0, 0.02));
        Layers = RegisterModule("layers", new ModuleList<TextLayer>(Enumerable.Range(0, config.TextLayers).Select(_ => new TextLayer(dim, heads))));
        FinalNorm = RegisterModule("norm", new LayerNorm(dim));
        NoCaption = RegisterParameter("null_embedding", Init.Normal_(Tensor.Empty([dim]), 0, 0.02));
    }

    public Embedding TokenEmbedding { get; }

    public Tensor Positions { get; }

    public ModuleList<TextLayer> Layers { get; }

    public LayerNorm FinalNorm { get; }

    /// <summary>The pooled vector of an empty caption.</summary>
    public Tensor NoCaption { get; }

    /// <summary>tokens: (N, S) int64 ids, 0 = padding, S ≤ max_text_tokens.</summary>
    public TextConditioning Forward(Tensor tokens)
    {
        var s = tokens.Size(1);
        if (s > _maxTokens)
        {
            throw new ArgumentException($"captions have {s} tokens but the text encoder takes at most {_maxTokens}", nameof(tokens));
        }

        using var scope = Tensor.NewDisposeScope();
        var present = tokens.Ne(Sora.Model.Text.WordTokenizer.PadId);
        var x = TokenEmbedding.Forward(tokens).Add(Positions.Narrow(0, 0, s));

        // Every query may attend to token 0, so a caption that is all padding never yields an empty softmax.
        var keys = present.LogicalOr(Tensor.Arange(s, device: tokens.Device).Eq(0L).Unsqueeze(0)).Reshape(tokens.Size(0), 1, 1, s);
        foreach (var layer in Layers)
        {
            x = layer.Forward(x, keys);
        }

        x = FinalNorm.Forward(x);
        var weights = present.To(x.DType).Unsqueeze(2);
        var count = weights.Sum([1]);
        var mean = x.Mul(weights).Sum([1]).Div(count.Clamp(min: 1));
        var pooled = Tensor.Where(count.Gt(0), mean, NoCaption.Unsqueeze(0));
        return new TextConditioning(scope.MoveToOuter(pooled), scope.MoveToOuter(x), scope.MoveToOuter(keys));
    }
}

/// <summary>A pre-norm transformer layer of the text encoder.</summary>
public sealed class TextLayer : Module
{
    public TextLayer(int dim, int heads)
    {
        AttentionNorm = RegisterModule("norm1", new LayerNorm(dim));
        SelfAttention = RegisterModule("attn", new Attention(dim, heads));
        MlpNorm = RegisterModule("norm2", new LayerNorm(dim));
        Mlp = RegisterModule("mlp", new Mlp(dim, dim * 4));
    }

    public LayerNorm AttentionNorm { get; }

    public Attention SelfAttention { get; }

    public LayerNorm MlpNorm { get; }

    public Mlp Mlp { get; }

    public Tensor Forward(Tensor x, Tensor keyMask)
    {
        using var scope = Tensor.NewDisposeScope();
        var h = x.Add(SelfAttention.Forward(AttentionNorm.Forward(x), mask: keyMask));
        return scope.MoveToOuter(h.Add(Mlp.Forward(MlpNorm.Forward(h))));
    }
}

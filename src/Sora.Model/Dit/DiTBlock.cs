using Sora.Model.Text;
using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Dit;

/// <summary>
/// A transformer block modulated by adaLN-Zero: self-attention over all spacetime tokens, optional
/// cross-attention to the caption, then an MLP. The modulation projection starts at zero, so at
/// initialisation every gate is 0 and the block is the identity.
/// </summary>
public sealed class DiTBlock : Module
{
    public DiTBlock(DiTConfig config)
    {
        var hidden = config.Hidden;
        AttentionNorm = RegisterModule("norm1", new LayerNorm(hidden, eps: 1e-6, elementwiseAffine: false));
        SelfAttention = RegisterModule("attn", new Attention(hidden, config.Heads));
        if (config.CrossAttention)
        {
            CrossNorm = RegisterModule("norm_cross", new LayerNorm(hidden, eps: 1e-6));
            CrossAttention = RegisterModule("cross_attn", new Attention(hidden, config.Heads, config.TextDim));
        }

        MlpNorm = RegisterModule("norm2", new LayerNorm(hidden, eps: 1e-6, elementwiseAffine: false));
        Mlp = RegisterModule("mlp", new Mlp(hidden, (int)(hidden * config.MlpRatio)));
        AdaLN = RegisterModule("adaLN_modulation", new Linear(hidden, 6 * hidden));
        Init.Zeros_(AdaLN.Weight);
        Init.Zeros_(AdaLN.Bias!);
    }

    public LayerNorm AttentionNorm { get; }

    public Attention SelfAttention { get; }

    public LayerNorm? CrossNorm { get; }

    public Attention? CrossAttention { get; }

    public LayerNorm MlpNorm { get; }

    public Mlp Mlp { get; }

    public Linear AdaLN { get; }

    /// <param name="x">(N, L, hidden) tokens.</param>
    /// <param name="conditioning">Timestep and text conditioning.</param>
    /// <param name="mask">Bool self-attention mask, broadcastable to (N, heads, L, L), or null for full attention.</param>
    /// <param name="text">The caption tokens, used by cross-attention.</param>
    public Tensor Forward(Tensor x, Conditioning conditioning, Tensor? mask, TextConditioning? text)
    {
        using var scope = Tensor.NewDisposeScope();
        var m = conditioning.Modulation(AdaLN.Forward, 6);
        var (shiftAttn, scaleAttn, gateAttn, shiftMlp, scaleMlp, gateMlp) = (m[0], m[1], m[2], m[3], m[4], m[5]);
        var h = x.Add(gateAttn.Mul(SelfAttention.Forward(Conditioning.Modulate(AttentionNorm.Forward(x), shiftAttn, scaleAttn), mask: mask)));
        if (CrossAttention is not null)
        {
            if (text is null)
            {
                throw new ArgumentException("this model uses cross-attention: the caption tokens are required", nameof(text));
            }

            h = h.Add(CrossAttention.Forward(CrossNorm!.Forward(h), text.Sequence, text.KeyMask));
        }

        h = h.Add(gateMlp.Mul(Mlp.Forward(Conditioning.Modulate(MlpNorm.Forward(h), shiftMlp, scaleMlp))));
        return scope.MoveToOuter(h);
    }
}

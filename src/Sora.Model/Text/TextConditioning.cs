using Sora.Torch;

namespace Sora.Model.Text;

/// <summary>What the text encoder gives the DiT for a batch of captions.</summary>
/// <param name="Pooled">(N, text_dim): the caption vector added to the adaLN conditioning.</param>
/// <param name="Sequence">(N, S, text_dim): per-token features for cross-attention.</param>
/// <param name="KeyMask">(N, 1, 1, S) bool: which caption tokens cross-attention may look at.</param>
public sealed record TextConditioning(Tensor Pooled, Tensor Sequence, Tensor KeyMask);

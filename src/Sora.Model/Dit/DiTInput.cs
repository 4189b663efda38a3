using Sora.Torch;

namespace Sora.Model.Dit;

/// <summary>One batch for the video DiT. All samples share one latent size (pack or bucket upstream).</summary>
/// <param name="Latent">(N, C, T, H, W) noisy latents x_t.</param>
/// <param name="Timesteps">(N) diffusion times in [0, 1] (1 = pure noise).</param>
/// <param name="CaptionTokens">(N, S) caption ids (0 = padding; all padding = no caption), or null when embeddings are given.</param>
/// <param name="CaptionEmbeddings">(N, text_dim) precomputed caption vectors, used instead of the text encoder.</param>
/// <param name="CleanFrames">(N, T) bool: latent frames given clean (t = 0) as conditioning; null when none.</param>
/// <param name="AttentionMask">Bool mask broadcastable to (N, heads, L, L), true = may attend; null = full attention.</param>
public sealed record DiTInput(
    Tensor Latent,
    Tensor Timesteps,
    Tensor? CaptionTokens = null,
    Tensor? CaptionEmbeddings = null,
    Tensor? CleanFrames = null,
    Tensor? AttentionMask = null);

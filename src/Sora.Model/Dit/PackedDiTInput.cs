using Sora.Torch;

namespace Sora.Model.Dit;

/// <summary>
/// A packed batch for the video DiT (Patch n' Pack): K samples of different sizes laid end to end in S sequences of
/// L tokens. Tokens attend only within their own sample, take their positions from <see cref="Positions"/> and their
/// timestep and caption conditioning from their own sample.
/// </summary>
/// <param name="Tokens">(S, L, C·pt·ph·pw) patchified noisy latents (<see cref="Patchifier.Patchify"/> of each sample), zeros at padding.</param>
/// <param name="SegmentIds">(S, L) int64: the sample (0..K−1) each token belongs to, −1 for padding.</param>
/// <param name="Positions">(S, L, 3) int64: each token's (t, h, w) in its own sample's token grid.</param>
/// <param name="Timesteps">(K) diffusion times, one per sample.</param>
/// <param name="CaptionTokens">(K, S_text) caption ids, or null when embeddings are given.</param>
/// <param name="CaptionEmbeddings">(K, text_dim) precomputed caption vectors, used instead of the text encoder.</param>
/// <param name="CleanTokens">(S, L) bool: tokens of frames given clean (t = 0); null when none.</param>
public sealed record PackedDiTInput(
    Tensor Tokens,
    Tensor SegmentIds,
    Tensor Positions,
    Tensor Timesteps,
    Tensor? CaptionTokens = null,
    Tensor? CaptionEmbeddings = null,
    Tensor? CleanTokens = null);

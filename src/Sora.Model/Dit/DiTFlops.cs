namespace Sora.Model.Dit;

/// <summary>
/// Model FLOPs of one training step (forward and backward) of a video DiT, by the usual accounting:
/// 6 · (per-token parameters) · tokens for the linear layers, 12 · layers · tokens² · hidden for attention
/// scores and their weighted sums, and 6 · (conditioning parameters) per sample for the layers that run
/// once per sample (timestep MLP, caption projection, adaLN modulations), plus 6 · (text encoder
/// parameters) · caption tokens.
/// </summary>
public sealed record DiTFlops(double Linear, double Attention, double Conditioning, double Text)
{
    public double Total => Linear + Attention + Conditioning + Text;

    public static DiTFlops PerStep(VideoDiT model, long batch, long frames, long height, long width) =>
        Counter(model)(batch, frames, height, width);

    /// <summary>
    /// The FLOPs of a step of <paramref name="model"/> as a function of (batch, frames, height, width), with its parameters
    /// counted now: call it on the model as built, before data parallelism replaces its parameters with shards.
    /// </summary>
    public static Func<long, long, long, long, DiTFlops> Counter(VideoDiT model)
    {
        ArgumentNullException.ThrowIfNull(model);
        long perToken = 0;
        long conditioning = 0;
        long text = 0;
        foreach (var (name, parameter) in model.NamedParameters())
        {
            var count = parameter.NumElements;
            if (name.StartsWith("text_encoder.", StringComparison.Ordinal))
            {
                text += count;
            }
            else if (name.StartsWith("t_embedder.", StringComparison.Ordinal) || name.StartsWith("y_embedder.", StringComparison.Ordinal) ||
                     name.Contains("adaLN_modulation", StringComparison.Ordinal))
            {
                conditioning += count;
            }
            else
            {
                perToken += count;
            }
        }

        var config = model.Config;
        return (batch, frames, height, width) =>
        {
            var tokens = model.TokenCount(frames, height, width);
            return new DiTFlops(
                Linear: 6.0 * perToken * tokens * batch,
                Attention: 12.0 * config.Depth * tokens * tokens * config.Hidden * batch,
                Conditioning: 6.0 * conditioning * batch,
                Text: 6.0 * text * config.MaxTextTokens * batch);
        };
    }
}

namespace Sora.Model.Dit;

/// <summary>Shape of a video diffusion transformer and its text encoder. Presets: tiny, bench, dit-s, dit-b.</summary>
public sealed record DiTConfig
{
    /// <summary>Channels of the latent the DiT denoises.</summary>
    public int LatentChannels { get; init; } = 4;

    /// <summary>Spacetime patch (t, h, w): each patch of the latent is one token.</summary>
    public (int T, int H, int W) Patch { get; init; } = (1, 2, 2);

    public int Hidden { get; init; } = 384;

    public int Depth { get; init; } = 12;

    public int Heads { get; init; } = 6;

    public double MlpRatio { get; init; } = 4;

    /// <summary>Width of the text vector added to the adaLN conditioning (and of precomputed caption embeddings).</summary>
    public int TextDim { get; init; } = 64;

    /// <summary>Transformer layers in the small text encoder.</summary>
    public int TextLayers { get; init; } = 1;

    /// <summary>Caption length in tokens (longer captions are cut).</summary>
    public int MaxTextTokens { get; init; } = 16;

    /// <summary>Adds cross-attention from video tokens to the caption tokens in every block.</summary>
    public bool CrossAttention { get; init; }

    /// <summary>
    /// Whether the text encoder learns with the DiT. Off, it is a fixed random encoder (as a frozen T5 is in real
    /// systems): trained jointly on the moving-shapes captions it learned to pool "moves left" and "moves right"
    /// to almost the same vector (2% apart, colours 90%), and the DiT could not learn direction.
    /// </summary>
    public bool TrainTextEncoder { get; init; } = true;

    /// <summary>Frequencies of the sinusoidal timestep embedding before its MLP.</summary>
    public int TimestepFrequencies { get; init; } = 256;

    public static DiTConfig Tiny { get; } = new() { Hidden = 128, Depth = 4, Heads = 4, TextDim = 64 };

    /// <summary>The benchmark model: 512 tokens from a (4, 8, 16, 16) latent, hidden 256, depth 6.</summary>
    public static DiTConfig Bench { get; } = new() { Hidden = 256, Depth = 6, Heads = 4, TextDim = 64 };

    public static DiTConfig DiTS { get; } = new() { Hidden = 384, Depth = 12, Heads = 6, TextDim = 64 };

    public static DiTConfig DiTB { get; } = new() { Hidden = 768, Depth = 12, Heads = 12, TextDim = 64 };

    /// <summary>The preset called <paramref name="name"/>.</summary>
    public static DiTConfig Preset(string name) => name.ToLowerInvariant() switch
    {
        "tiny" => Tiny,
        "bench" => Bench,
        "dit-s" => DiTS,
        "dit-b" => DiTB,
        _ => throw new ArgumentException($"unknown model preset '{name}'; expected tiny, bench, dit-s or dit-b", nameof(name)),
    };

    public int HeadDim => Hidden / Heads;

    /// <summary>Values a token carries: latent channels × patch volume.</summary>
    public int PatchVolume => LatentChannels * Patch.T * Patch.H * Patch.W;

    /// <summary>Throws with the offending field when the shape is impossible.</summary>
    public DiTConfig Validate()
    {
        Require(LatentChannels >= 1, "latent_channels", $"must be >= 1 (got {LatentChannels})");
        Require(Patch.T >= 1 && Patch.H >= 1 && Patch.W >= 1, "patch", $"every size must be >= 1 (got {Patch})");
        Require(Hidden >= 1 && Heads >= 1 && Hidden % Heads == 0, "hidden", $"must be a positive multiple of heads ({Hidden} vs {Heads} heads)");
        Require(HeadDim % 2 == 0, "heads", $"head dim {HeadDim} must be even");
        Require(Hidden % 8 == 0, "hidden", $"must be a multiple of 8 for the 3-D position encoding (got {Hidden})");
        Require(Depth >= 1, "depth", $"must be >= 1 (got {Depth})");
        Require(MlpRatio > 0, "mlp_ratio", $"must be > 0 (got {MlpRatio})");
        Require(TextDim >= 2 && TextDim % 2 == 0, "text_dim", $"must be an even number >= 2 (got {TextDim})");
        Require(TextLayers >= 0, "text_layers", $"must be >= 0 (got {TextLayers})");
        Require(MaxTextTokens >= 1, "max_text_tokens", $"must be >= 1 (got {MaxTextTokens})");
        Require(TimestepFrequencies >= 2 && TimestepFrequencies % 2 == 0, "timestep_frequencies", $"must be even (got {TimestepFrequencies})");
        return this;
    }

    private static void Require(bool condition, string field, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"model.{field}: {message}");
        }
    }
}

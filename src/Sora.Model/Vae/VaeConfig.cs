using System.Numerics;
using System.Text;

namespace Sora.Model.Vae;

/// <summary>The shape and loss settings of a <see cref="VideoVae"/>, with named presets and validation that names the field at fault.</summary>
/// <remarks>
/// The encoder has one level per entry of <see cref="ChannelMultipliers"/> and halves height and width between
/// consecutive levels, so there must be log2(<see cref="SpatialDownsample"/>) + 1 levels. Time is halved at the
/// first log2(<see cref="TemporalDownsample"/>) of those steps, so the temporal factor cannot exceed the spatial one.
/// </remarks>
public sealed record VaeConfig
{
    /// <summary>
    /// A few hundred thousand parameters: a training step on 8 clips of (3, 8, 32, 32) takes a fraction of a
    /// second on two CPU cores. For tests, demos and the default CPU job.
    /// </summary>
    public static VaeConfig Tiny { get; } = new()
    {
        BaseChannels = 8,
        ChannelMultipliers = [1, 2, 4],
        ResidualBlocksPerLevel = 1,
        GroupNormGroups = 4,
    };

    /// <summary>
    /// The CPU demo's VAE: a patch stem (<see cref="PatchStem"/>) 96 channels wide with two residual blocks and 8
    /// latent channels. Same compression as <see cref="Tiny"/>; learns colour and motion of small moving shapes in
    /// about a minute on two cores.
    /// </summary>
    public static VaeConfig Patch { get; } = new()
    {
        PatchStem = true,
        BaseChannels = 96,
        ResidualBlocksPerLevel = 2,
        LatentChannels = 8,
    };

    /// <summary>
    /// Tens of millions of parameters, for GPU jobs. It compresses exactly as <see cref="Tiny"/> does (same latent
    /// shape for the same video), so a DiT's token counts do not change with the VAE preset.
    /// </summary>
    public static VaeConfig Base { get; } = new()
    {
        BaseChannels = 64,
        ChannelMultipliers = [1, 2, 4],
        ResidualBlocksPerLevel = 2,
        GroupNormGroups = 32,
    };

    /// <summary>Colour channels of the video (3 for RGB).</summary>
    public int InputChannels { get; init; } = 3;

    /// <summary>Channels of the latent (c in (c, t, h, w)).</summary>
    public int LatentChannels { get; init; } = 4;

    /// <summary>
    /// A patch-stem VAE (<see cref="PatchVaeTower"/>): one strided convolution to the latent grid and residual blocks
    /// there, instead of the hierarchical tower. BaseChannels is then its width and ResidualBlocksPerLevel its depth;
    /// ChannelMultipliers and GroupNormGroups are unused.
    /// </summary>
    public bool PatchStem { get; init; }

    /// <summary>
    /// The patch decoder's pixel head (0 = none): the decoder's last layer writes this many features per pixel instead of
    /// the colours, and two 3×3 convolutions over each frame turn them into colours. Without it every pixel block is a
    /// linear mix of <see cref="BaseChannels"/> block patterns, which blurs a small shape's corners and edges.
    /// </summary>
    public int PixelHeadChannels { get; init; }

    /// <summary>Channels of the first (full-resolution) level; level i has BaseChannels × ChannelMultipliers[i].</summary>
    public int BaseChannels { get; init; } = 64;

    /// <summary>Channel multiplier of each level, full resolution first.</summary>
    public IReadOnlyList<int> ChannelMultipliers { get; init; } = [1, 2, 4];

    /// <summary>Frames per latent frame: T_latent = ceil(T / factor). A power of two, at most <see cref="SpatialDownsample"/>.</summary>
    public int TemporalDownsample { get; init; } = 2;

    /// <summary>Pixels per latent pixel along height and along width. A power of two.</summary>
    public int SpatialDownsample { get; init; } = 4;

    /// <summary>Residual blocks at each level of the encoder and of the decoder.</summary>
    public int ResidualBlocksPerLevel { get; init; } = 1;

    /// <summary>Groups of every GroupNorm; must divide the channel count of every level.</summary>
    public int GroupNormGroups { get; init; } = 32;

    /// <summary>
    /// Weight of the KL term against the reconstruction term, both per-element means (see <see cref="VideoVae.Loss"/>).
    /// Small, as in latent-diffusion autoencoders: enough to keep the latent's scale bounded, not enough to blur.
    /// </summary>
    public double KlWeight { get; init; } = 1e-6;

    /// <summary>How many times the encoder halves height and width: log2(<see cref="SpatialDownsample"/>).</summary>
    public int SpatialStages => BitOperations.Log2((uint)Math.Max(SpatialDownsample, 1));

    /// <summary>How many of those stages also halve time: log2(<see cref="TemporalDownsample"/>).</summary>
    public int TemporalStages => BitOperations.Log2((uint)Math.Max(TemporalDownsample, 1));

    /// <summary>Channels of level <paramref name="level"/> (0 = full resolution).</summary>
    public int LevelChannels(int level) => BaseChannels * ChannelMultipliers[level];

    /// <summary>The latent's (t, h, w) for a video of (frames, height, width): each divided by its factor, rounded up.</summary>
    public (long Frames, long Height, long Width) LatentSize(long frames, long height, long width) =>
        (CeilDiv(frames, TemporalDownsample), CeilDiv(height, SpatialDownsample), CeilDiv(width, SpatialDownsample));

    /// <summary>Throws an <see cref="ArgumentException"/> listing every field that is out of range, with the values allowed.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        void Require(bool ok, string field, string message)
        {
            if (!ok)
            {
                problems.Add($"{field}: {message}");
            }
        }

        Require(InputChannels >= 1, nameof(InputChannels), $"is {InputChannels}; it must be at least 1");
        Require(LatentChannels >= 1, nameof(LatentChannels), $"is {LatentChannels}; it must be at least 1");
        Require(BaseChannels >= 1, nameof(BaseChannels), $"is {BaseChannels}; it must be at least 1");
        Require(ResidualBlocksPerLevel >= 0, nameof(ResidualBlocksPerLevel), $"is {ResidualBlocksPerLevel}; it must be 0 or more");
        Require(GroupNormGroups >= 1, nameof(GroupNormGroups), $"is {GroupNormGroups}; it must be at least 1");
        Require(PixelHeadChannels >= 0, nameof(PixelHeadChannels), $"is {PixelHeadChannels}; it must be 0 (none) or more");
        Require(PixelHeadChannels == 0 || PatchStem, nameof(PixelHeadChannels), $"is {PixelHeadChannels}; only the patch decoder has a pixel head");
        Require(double.IsFinite(KlWeight) && KlWeight >= 0, nameof(KlWeight), $"is {KlWeight}; it must be a finite number, 0 or more");
        var spatialOk = IsPowerOfTwo(SpatialDownsample);
        Require(spatialOk, nameof(SpatialDownsample), $"is {SpatialDownsample}; it must be a power of two (1, 2, 4, 8, ...)");
        Require(IsPowerOfTwo(TemporalDownsample), nameof(TemporalDownsample), $"is {TemporalDownsample}; it must be a power of two (1, 2, 4, ...)");
        if (spatialOk && IsPowerOfTwo(TemporalDownsample) && !PatchStem)
        {
            Require(TemporalDownsample <= SpatialDownsample, nameof(TemporalDownsample),
                $"is {TemporalDownsample}; time is halved only where space is, so it must be at most {nameof(SpatialDownsample)} ({SpatialDownsample})");
        }

        if (PatchStem)
        {
            // The patch stem has no levels: the multipliers and group norms of the hierarchical tower do not apply.
        }
        else if (ChannelMultipliers is null || ChannelMultipliers.Count == 0)
        {
            problems.Add($"{nameof(ChannelMultipliers)}: is empty; it needs one entry per level");
        }
        else
        {
            if (spatialOk)
            {
                Require(ChannelMultipliers.Count == SpatialStages + 1, nameof(ChannelMultipliers),
                    $"has {ChannelMultipliers.Count} levels but {nameof(SpatialDownsample)} {SpatialDownsample} needs log2({SpatialDownsample}) + 1 = {SpatialStages + 1}");
            }

            for (var i = 0; i < ChannelMultipliers.Count; i++)
            {
                var multiplier = ChannelMultipliers[i];
                Require(multiplier >= 1, $"{nameof(ChannelMultipliers)}[{i}]", $"is {multiplier}; it must be at least 1");
                if (multiplier >= 1 && BaseChannels >= 1 && GroupNormGroups >= 1)
                {
                    var channels = (long)BaseChannels * multiplier;
                    Require(channels % GroupNormGroups == 0, nameof(GroupNormGroups),
                        $"is {GroupNormGroups}, which does not divide level {i}'s {channels} channels ({nameof(BaseChannels)} {BaseChannels} × {nameof(ChannelMultipliers)}[{i}] {multiplier})");
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"invalid {nameof(VaeConfig)}: {string.Join("; ", problems)}");
        }
    }

    // Records compare lists by reference; configs are equal when their multipliers are.
    public bool Equals(VaeConfig? other) =>
        other is not null &&
        InputChannels == other.InputChannels &&
        PatchStem == other.PatchStem &&
        PixelHeadChannels == other.PixelHeadChannels &&
        LatentChannels == other.LatentChannels &&
        BaseChannels == other.BaseChannels &&
        ChannelMultipliers.SequenceEqual(other.ChannelMultipliers) &&
        TemporalDownsample == other.TemporalDownsample &&
        SpatialDownsample == other.SpatialDownsample &&
        ResidualBlocksPerLevel == other.ResidualBlocksPerLevel &&
        GroupNormGroups == other.GroupNormGroups &&
        KlWeight.Equals(other.KlWeight);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(InputChannels);
        hash.Add(PatchStem);
        hash.Add(PixelHeadChannels);
        hash.Add(LatentChannels);
        hash.Add(BaseChannels);
        foreach (var multiplier in ChannelMultipliers)
        {
            hash.Add(multiplier);
        }

        hash.Add(TemporalDownsample);
        hash.Add(SpatialDownsample);
        hash.Add(ResidualBlocksPerLevel);
        hash.Add(GroupNormGroups);
        hash.Add(KlWeight);
        return hash.ToHashCode();
    }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"{nameof(InputChannels)} = {InputChannels}, {nameof(LatentChannels)} = {LatentChannels}, ")
            .Append($"{nameof(PatchStem)} = {PatchStem}, {nameof(PixelHeadChannels)} = {PixelHeadChannels}, ")
            .Append($"{nameof(BaseChannels)} = {BaseChannels}, {nameof(ChannelMultipliers)} = [{string.Join(", ", ChannelMultipliers)}], ")
            .Append($"{nameof(TemporalDownsample)} = {TemporalDownsample}, {nameof(SpatialDownsample)} = {SpatialDownsample}, ")
            .Append($"{nameof(ResidualBlocksPerLevel)} = {ResidualBlocksPerLevel}, {nameof(GroupNormGroups)} = {GroupNormGroups}, ")
            .Append($"{nameof(KlWeight)} = {KlWeight}");
        return true;
    }

    private static bool IsPowerOfTwo(int value) => value >= 1 && BitOperations.IsPow2(value);

    private static long CeilDiv(long value, long divisor) => (value + divisor - 1) / divisor;
}

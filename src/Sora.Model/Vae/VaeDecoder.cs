namespace Sora.Model.Vae;

/// <summary>
/// A latent (N, latent, t, h, w) → pixels (N, C, t·tf, h·sf, w·sf): the encoder mirrored, each downsampling step
/// undone by a <see cref="VideoUpsample"/> that also narrows the channels to the next level's.
/// </summary>
internal sealed class VaeDecoder : VaeTower
{
    public VaeDecoder(VaeConfig config)
    {
        var levels = config.ChannelMultipliers.Count;
        var channels = (long)config.LevelChannels(levels - 1);
        AddLayer("conv_in", new CausalConv3d(config.LatentChannels, channels));
        AddLayer("mid_block", new ResidualBlock(channels, channels, config.GroupNormGroups));
        for (var level = levels - 1; level >= 0; level--)
        {
            var levelChannels = config.LevelChannels(level);
            for (var block = 0; block < config.ResidualBlocksPerLevel; block++)
            {
                AddLayer($"level{level}_block{block}", new ResidualBlock(channels, levelChannels, config.GroupNormGroups));
                channels = levelChannels;
            }

            if (level > 0)
            {
                // Undoes the encoder's step after level − 1; the channel change happens here, on the way to the
                // larger resolution, so the full-resolution blocks stay at the narrow BaseChannels width.
                var upsampleTime = level - 1 < config.TemporalStages;
                var nextChannels = config.LevelChannels(level - 1);
                AddLayer($"level{level}_up", new VideoUpsample(channels, nextChannels, upsampleTime));
                channels = nextChannels;
            }
        }

        AddHead(config.GroupNormGroups, channels, config.InputChannels);
    }
}

using Sora.Torch.NN;

namespace Sora.Model.Vae;

/// <summary>
/// Pixels (N, C, T, H, W) → the latent Gaussian's moments (N, 2·latent, T/tf, H/sf, W/sf): mean channels, then
/// log-variance channels. T, H and W must already be multiples of the factors (<see cref="VideoVae"/> pads).
/// </summary>
internal sealed class VaeEncoder : VaeTower
{
    public VaeEncoder(VaeConfig config)
    {
        var levels = config.ChannelMultipliers.Count;
        var channels = (long)config.LevelChannels(0);
        AddLayer("conv_in", new CausalConv3d(config.InputChannels, channels));
        for (var level = 0; level < levels; level++)
        {
            var levelChannels = config.LevelChannels(level);
            for (var block = 0; block < config.ResidualBlocksPerLevel; block++)
            {
                AddLayer($"level{level}_block{block}", new ResidualBlock(channels, levelChannels, config.GroupNormGroups));
                channels = levelChannels;
            }

            if (level < levels - 1)
            {
                // Time is halved at the first stages (as CogVideoX's encoder does): every later level then runs on
                // fewer frames, which is where most of a video encoder's work would otherwise go.
                var temporalStride = level < config.TemporalStages ? 2 : 1;
                AddLayer($"level{level}_down", new CausalConv3d(channels, levelChannels, temporalStride: temporalStride, spatialStride: 2));
                channels = levelChannels;
            }
        }

        AddLayer("mid_block", new ResidualBlock(channels, channels, config.GroupNormGroups));
        AddHead(config.GroupNormGroups, channels, 2L * config.LatentChannels);
        VideoVae.StartWithSmallPosteriorVariance(OutputConv.Conv, config.LatentChannels);
    }
}

using Sora.Model.Vae;

namespace Sora.Model.Tests.Vae;

public class VaeConfigTests
{
    private static readonly Dictionary<string, (VaeConfig Config, string Field)> s_invalid = new()
    {
        ["no input channels"] = (VaeConfig.Tiny with { InputChannels = 0 }, "InputChannels"),
        ["no latent channels"] = (VaeConfig.Tiny with { LatentChannels = 0 }, "LatentChannels"),
        ["no base channels"] = (VaeConfig.Tiny with { BaseChannels = 0 }, "BaseChannels"),
        ["negative blocks"] = (VaeConfig.Tiny with { ResidualBlocksPerLevel = -1 }, "ResidualBlocksPerLevel"),
        ["spatial factor not a power of two"] = (VaeConfig.Tiny with { SpatialDownsample = 6 }, "SpatialDownsample"),
        ["temporal factor not a power of two"] = (VaeConfig.Tiny with { TemporalDownsample = 3 }, "TemporalDownsample"),
        ["temporal factor above the spatial one (hierarchical)"] = (VaeConfig.Tiny with { TemporalDownsample = 8 }, "TemporalDownsample"),
        ["too few levels for the spatial factor"] = (VaeConfig.Tiny with { SpatialDownsample = 8 }, "ChannelMultipliers"),
        ["no levels"] = (VaeConfig.Tiny with { ChannelMultipliers = [] }, "ChannelMultipliers"),
        ["zero multiplier"] = (VaeConfig.Tiny with { ChannelMultipliers = [1, 0, 2] }, "ChannelMultipliers[1]"),
        ["groups do not divide channels"] = (VaeConfig.Tiny with { GroupNormGroups = 3 }, "GroupNormGroups"),
        ["negative KL weight"] = (VaeConfig.Tiny with { KlWeight = -1 }, "KlWeight"),
        ["NaN KL weight"] = (VaeConfig.Tiny with { KlWeight = double.NaN }, "KlWeight"),
        ["negative pixel head"] = (VaeConfig.Patch with { PixelHeadChannels = -1 }, "PixelHeadChannels"),
        ["pixel head on the hierarchical tower"] = (VaeConfig.Tiny with { PixelHeadChannels = 16 }, "PixelHeadChannels"),
    };

    public static TheoryData<string> InvalidCases => new(s_invalid.Keys);

    [Fact]
    public void The_presets_are_valid_and_compress_videos_to_the_same_latent_shape()
    {
        VaeConfig.Tiny.Validate();
        VaeConfig.Base.Validate();
        VaeConfig.Tiny.LatentSize(8, 32, 32).Should().Be(VaeConfig.Base.LatentSize(8, 32, 32));
        VaeConfig.Base.BaseChannels.Should().BeGreaterThan(VaeConfig.Tiny.BaseChannels);
        VaeConfig.Tiny.TemporalDownsample.Should().Be(2);
        VaeConfig.Tiny.SpatialDownsample.Should().Be(4);
    }

    [Theory]
    [InlineData(8, 32, 32, 4, 8, 8)]
    [InlineData(1, 32, 32, 1, 8, 8)]
    [InlineData(16, 48, 32, 8, 12, 8)]
    [InlineData(5, 30, 34, 3, 8, 9)]
    public void The_latent_size_divides_each_dimension_by_its_factor_rounding_up(long t, long h, long w, long lt, long lh, long lw) =>
        VaeConfig.Tiny.LatentSize(t, h, w).Should().Be((lt, lh, lw));

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Validation_names_the_field_at_fault(string name)
    {
        var (config, field) = s_invalid[name];
        var act = () => config.Validate();
        act.Should().Throw<ArgumentException>().Where(e => e.Message.Contains($"{field}: ", StringComparison.Ordinal), $"the error should name {field}");
    }

    [Fact]
    public void Validation_lists_every_problem_at_once()
    {
        var config = VaeConfig.Tiny with { LatentChannels = 0, KlWeight = -1 };
        var act = () => config.Validate();
        act.Should().Throw<ArgumentException>().Which.Message.Should().Contain("LatentChannels").And.Contain("KlWeight");
    }

    [Fact]
    public void A_vae_cannot_be_built_from_an_invalid_config()
    {
        var act = () => new VideoVae(VaeConfig.Tiny with { SpatialDownsample = 6 });
        act.Should().Throw<ArgumentException>().WithMessage("*SpatialDownsample*power of two*");
    }

    [Fact]
    public void Configs_with_equal_values_are_equal_and_print_their_multipliers()
    {
        var copy = VaeConfig.Tiny with { ChannelMultipliers = VaeConfig.Tiny.ChannelMultipliers.ToArray() };
        copy.Should().Be(VaeConfig.Tiny);
        copy.GetHashCode().Should().Be(VaeConfig.Tiny.GetHashCode());
        (VaeConfig.Tiny with { ChannelMultipliers = [1, 2, 8] }).Should().NotBe(VaeConfig.Tiny);
        VaeConfig.Tiny.ToString().Should().Contain($"ChannelMultipliers = [{string.Join(", ", VaeConfig.Tiny.ChannelMultipliers)}]");
        (VaeConfig.Patch with { PixelHeadChannels = 16 }).Should().NotBe(VaeConfig.Patch, "a pixel head changes the decoder");
        (VaeConfig.Tiny with { PatchStem = true }).Should().NotBe(VaeConfig.Tiny, "the patch stem is another network");
    }
}

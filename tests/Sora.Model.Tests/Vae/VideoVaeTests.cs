using Sora.Model.Vae;
using Sora.Torch;

namespace Sora.Model.Tests.Vae;

public class VideoVaeTests
{
    [Fact]
    public void A_video_encodes_to_a_latent_a_quarter_the_size_in_space_and_half_in_time_and_decodes_back()
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        using var vae = new VideoVae(VaeConfig.Tiny);
        var video = Tensor.Rand([2, 3, 8, 32, 32]).Mul(2).Sub(1);

        var (mean, logVar) = vae.Encode(video);
        mean.Shape.Should().Equal(2, 4, 4, 8, 8);
        logVar.Shape.Should().Equal(2, 4, 4, 8, 8);
        vae.Decode(mean, 8, 32, 32).Shape.Should().Equal(2, 3, 8, 32, 32);

        var (reconstruction, forwardMean, forwardLogVar) = vae.Forward(video);
        reconstruction.Shape.Should().Equal(2, 3, 8, 32, 32);
        forwardMean.Shape.Should().Equal(mean.Shape);
        forwardLogVar.Shape.Should().Equal(mean.Shape);
    }

    [Fact]
    public void An_image_is_a_video_of_one_frame_and_keeps_one_latent_frame()
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        using var vae = new VideoVae(VaeConfig.Tiny);
        var image = Tensor.Rand([1, 3, 1, 32, 32]);

        var (mean, _) = vae.Encode(image);
        mean.Shape.Should().Equal(1, 4, 1, 8, 8);
        vae.Decode(mean, 1, 32, 32).Shape.Should().Equal(1, 3, 1, 32, 32);
        vae.Forward(image).Reconstruction.Shape.Should().Equal(1, 3, 1, 32, 32);
    }

    [Fact]
    public void The_base_preset_compresses_as_the_tiny_one_does()
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        using var vae = new VideoVae(VaeConfig.Base);
        var video = Tensor.Rand([1, 3, 2, 16, 16]);
        var (mean, _) = vae.Encode(video);
        mean.Shape.Should().Equal(1, 4, 1, 4, 4);
        vae.Decode(mean, 2, 16, 16).Shape.Should().Equal(1, 3, 2, 16, 16);
        using var tiny = new VideoVae(VaeConfig.Tiny);
        vae.ParameterCount().Should().BeGreaterThan(50 * tiny.ParameterCount());
    }

    [Theory]
    [InlineData(8, 48, 32)]
    [InlineData(8, 32, 48)]
    [InlineData(16, 32, 32)]
    [InlineData(16, 64, 64)]
    [InlineData(5, 30, 34)]
    public void Durations_and_sizes_round_trip_their_shape(long frames, long height, long width)
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        using var vae = new VideoVae(VaeConfig.Tiny);
        var video = Tensor.Rand([1, 3, frames, height, width]);

        var (mean, _) = vae.Encode(video);
        var (latentFrames, latentHeight, latentWidth) = vae.Config.LatentSize(frames, height, width);
        mean.Shape.Should().Equal(1, 4, latentFrames, latentHeight, latentWidth);
        vae.Decode(mean, frames, height, width).Shape.Should().Equal(1, 3, frames, height, width);
    }

    [Theory]
    [InlineData(new long[] { 2, 3, 32, 32 }, "[2, 3, 32, 32]")]
    [InlineData(new long[] { 2, 4, 8, 32, 32 }, "[2, 4, 8, 32, 32]")]
    [InlineData(new long[] { 1, 3, 8, 32, 32, 1 }, "[1, 3, 8, 32, 32, 1]")]
    public void A_video_of_the_wrong_rank_or_channel_count_is_refused_with_its_shape(long[] shape, string printed)
    {
        using var scope = Tensor.NewDisposeScope();
        using var vae = new VideoVae(VaeConfig.Tiny);
        var act = () => vae.Encode(Tensor.Zeros(shape));
        act.Should().Throw<ArgumentException>()
            .Where(e => e.Message.Contains("(N, C, T, H, W) with C = 3", StringComparison.Ordinal) && e.Message.Contains(printed, StringComparison.Ordinal));
        var forward = () => vae.Loss(Tensor.Zeros(shape));
        forward.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void An_integer_video_is_refused()
    {
        using var scope = Tensor.NewDisposeScope();
        using var vae = new VideoVae(VaeConfig.Tiny);
        var act = () => vae.Encode(Tensor.Zeros([1, 3, 8, 32, 32], ScalarType.Int64));
        act.Should().Throw<ArgumentException>().WithMessage("*floating-point video*int64*");
    }

    [Fact]
    public void Decoding_checks_the_latent_and_that_the_size_asked_for_fits_it()
    {
        using var scope = Tensor.NewDisposeScope();
        using var vae = new VideoVae(VaeConfig.Tiny);
        var latent = Tensor.Zeros([1, 4, 4, 8, 8]);

        var wrongChannels = () => vae.Decode(Tensor.Zeros([1, 3, 4, 8, 8]), 8, 32, 32);
        wrongChannels.Should().Throw<ArgumentException>().WithMessage("*latent shaped (N, C, T, H, W) with C = 4*[1, 3, 4, 8, 8]*");
        var tooManyFrames = () => vae.Decode(latent, 9, 32, 32);
        tooManyFrames.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("frames");
        var noHeight = () => vae.Decode(latent, 8, 0, 32);
        noHeight.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("height");
        var tooWide = () => vae.Decode(latent, 8, 32, 33);
        tooWide.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("width");
    }

    [Fact]
    public void One_backward_pass_reaches_every_parameter()
    {
        using var scope = Tensor.NewDisposeScope();
        using var vae = new VideoVae(VaeConfig.Tiny);
        var loss = vae.Loss(Tensor.Rand([2, 3, 8, 32, 32]).Mul(2).Sub(1));
        loss.Total.Backward();

        static bool Flows(Tensor? grad) => grad is not null && grad.Abs().Sum().ItemDouble() > 0 && grad.IsFinite().LogicalNot().Sum().ItemLong() == 0;
        var starved = vae.NamedParameters().Where(p => !Flows(p.Parameter.Grad())).Select(p => p.Name).ToList();
        starved.Should().BeEmpty("every parameter should get a finite, non-zero gradient");
        vae.NamedParameters().Should().NotBeEmpty();
    }

    [Fact]
    public void The_total_loss_is_the_reconstruction_plus_the_weighted_kl()
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        using var vae = new VideoVae(VaeConfig.Tiny with { KlWeight = 0.5 });
        var loss = vae.Loss(Tensor.Rand([1, 3, 4, 16, 16]));
        loss.Total.Shape.Should().BeEmpty();
        loss.Total.ItemDouble().Should().BeApproximately(loss.Reconstruction.ItemDouble() + (0.5 * loss.Kl.ItemDouble()), 1e-5);
        loss.Kl.ItemDouble().Should().BePositive();
    }

    [Fact]
    public void Eval_mode_decodes_the_mean_and_training_mode_a_sample()
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        using var vae = new VideoVae(VaeConfig.Tiny);
        var video = Tensor.Rand([1, 3, 8, 16, 16]);

        vae.Eval();
        var first = vae.Forward(video).Reconstruction;
        vae.Forward(video).Reconstruction.Equal(first).Should().BeTrue();
        var (mean, _) = vae.Encode(video);
        first.Equal(vae.Decode(mean, 8, 16, 16)).Should().BeTrue();

        vae.Train();
        vae.Forward(video).Reconstruction.Equal(first).Should().BeFalse();
    }

    [Fact]
    public void Samples_have_the_posterior_mean_and_standard_deviation()
    {
        using var scope = Tensor.NewDisposeScope();
        var mean = Tensor.Full([100_000], 1.5);
        var logVar = Tensor.Full([100_000], Math.Log(4));
        var sample = VideoVae.Sample(mean, logVar);
        sample.Mean().ItemDouble().Should().BeApproximately(1.5, 0.03);
        sample.Var().Sqrt().ItemDouble().Should().BeApproximately(2, 0.03);
    }

    [Fact]
    public void Later_frames_change_neither_earlier_latents_nor_earlier_decoded_frames()
    {
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        using var vae = new VideoVae(VaeConfig.Tiny);
        vae.Eval();
        var video = Tensor.Rand([1, 3, 8, 16, 16]);

        var (whole, _) = vae.Encode(video);
        var (prefix, _) = vae.Encode(video.Narrow(2, 0, 4));
        prefix.AllClose(whole.Narrow(2, 0, 2), atol: 1e-5).Should().BeTrue("the first four frames alone give the first two latent frames");

        var decoded = vae.Decode(whole, 8, 16, 16);
        var decodedPrefix = vae.Decode(whole.Narrow(2, 0, 2), 4, 16, 16);
        decodedPrefix.AllClose(decoded.Narrow(2, 0, 4), atol: 1e-5).Should().BeTrue("the first two latent frames alone give the first four frames");
    }
}

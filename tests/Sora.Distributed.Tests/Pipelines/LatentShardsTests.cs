using Sora.Data.Dataset;
using Sora.Data.Synthetic;
using Sora.Distributed.Pipelines;
using Sora.Model.Vae;
using Sora.Torch;

namespace Sora.Distributed.Tests.Pipelines;

[Collection(nameof(Training.TrainerTests))]
public sealed class LatentShardsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-latents-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Pixel_rows_become_float32_latent_rows_of_the_vae_posterior_means()
    {
        var pixels = Path.Combine(_directory, "pixels");
        MovingShapesShards.Write(pixels, 3, seed: 4, MovingShapesOptions.SmallCpu, new VideoShardWriterOptions());
        RandomState.ManualSeed(2);
        using var vae = new VideoVae(VaeConfig.Tiny);

        var latents = Path.Combine(_directory, "latents");
        using (var writer = new VideoShardWriter(latents, new VideoShardWriterOptions()))
        {
            LatentShards.Encode(vae, "tiny-vae", pixels, writer).Should().Be(3);
        }

        var sources = new VideoShardReader(pixels).ReadRecords().ToList();
        var encoded = new VideoShardReader(latents).ReadRecords().ToList();
        encoded.Select(r => (r.Id, r.Caption)).Should().Equal(sources.Select(r => (r.Id, r.Caption)));
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        for (var i = 0; i < sources.Count; i++)
        {
            var (mean, _) = vae.Encode(sources[i].ToClip().ToTensor().Unsqueeze(0));
            var expected = mean.Squeeze(0);
            var row = encoded[i];
            (row.Kind, row.DType).Should().Be((VideoSampleKind.Latents, VideoDType.Float32));
            new long[] { row.Channels, row.Frames, row.Height, row.Width }.Should().Equal(expected.Shape);
            Tensor.FromBytes(row.Payload, expected.Shape, ScalarType.Float32).Equal(expected).Should().BeTrue("the payload is the posterior mean, bit for bit");
            row.Source.Should().EndWith("| vae tiny-vae");
        }
    }

    [Fact]
    public void Encoding_a_latent_dataset_again_is_refused_naming_the_sample()
    {
        var pixels = Path.Combine(_directory, "pixels");
        MovingShapesShards.Write(pixels, 1, seed: 4, MovingShapesOptions.SmallCpu, new VideoShardWriterOptions());
        RandomState.ManualSeed(2);
        using var vae = new VideoVae(VaeConfig.Tiny);
        var latents = Path.Combine(_directory, "latents");
        using (var writer = new VideoShardWriter(latents, new VideoShardWriterOptions()))
        {
            LatentShards.Encode(vae, "v", pixels, writer);
        }

        using var again = new VideoShardWriter(Path.Combine(_directory, "twice"), new VideoShardWriterOptions());
        var act = () => LatentShards.Encode(vae, "v", latents, again);
        act.Should().Throw<InvalidDataException>().WithMessage("*holds latents, not pixels*");
    }
}

using Sora.Data.Video;
using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Model.Sampling;
using Sora.Model.Text;
using Sora.Model.Vae;
using Sora.Torch;

namespace Sora.Distributed.Pipelines;

/// <summary>Text (and optionally given frames) to video: tokenise, sample latents with the DiT, denormalise, decode with the VAE.</summary>
public sealed class VideoGenerator
{
    private readonly EulerSampler _sampler;

    public VideoGenerator(VideoDiT model, VideoVae vae, WordTokenizer tokenizer, LatentStatistics statistics, FlowOptions flow, SamplingOptions sampling)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Vae = vae ?? throw new ArgumentNullException(nameof(vae));
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Statistics = statistics ?? throw new ArgumentNullException(nameof(statistics));
        _sampler = new EulerSampler(new RectifiedFlow(flow), sampling);
    }

    public VideoDiT Model { get; }

    public VideoVae Vae { get; }

    public WordTokenizer Tokenizer { get; }

    public LatentStatistics Statistics { get; }

    /// <summary>One video per caption, of the given size in pixels. <paramref name="seed"/> fixes the starting noise.</summary>
    /// <param name="captions">Prompts.</param>
    /// <param name="frames">Frames of each video (1 = an image).</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="seed">Noise seed.</param>
    /// <param name="given">Frames to keep: a clip per caption whose first (or last) latent frames condition the video.</param>
    /// <param name="givenLatentFrames">How many latent frames of <paramref name="given"/> to keep (from the start; from the end when negative).</param>
    public IReadOnlyList<VideoClip> Generate(IReadOnlyList<string> captions, int frames, int height, int width, ulong seed,
        IReadOnlyList<VideoClip>? given = null, int givenLatentFrames = 1)
    {
        ArgumentNullException.ThrowIfNull(captions);
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        Model.Eval();
        Vae.Eval();
        var (lt, lh, lw) = Vae.Config.LatentSize(frames, height, width);
        long[] shape = [captions.Count, Model.Config.LatentChannels, lt, lh, lw];
        var tokens = DiTStage.Tokenize(Tokenizer, captions, Model.Config.MaxTextTokens);

        var saved = RandomState.GetState();
        Tensor noise;
        try
        {
            RandomState.ManualSeed(seed);
            noise = _sampler.Flow.SampleNoise(shape);
        }
        finally
        {
            RandomState.SetState(saved);
        }

        ConditioningFrames? conditioning = null;
        if (given is not null)
        {
            if (given.Count != captions.Count)
            {
                throw new ArgumentException($"{given.Count} conditioning clips for {captions.Count} captions", nameof(given));
            }

            var pixels = Tensor.Stack(given.Select(c => Resize(c, frames, height, width).ToTensor()).ToArray());
            var latent = Statistics.Normalize(Vae.Encode(pixels).Mean);
            conditioning = givenLatentFrames >= 0
                ? ConditioningFrames.Prefix(latent, givenLatentFrames)
                : ConditioningFrames.Suffix(latent, -givenLatentFrames);
        }

        var sampled = _sampler.Sample(Model, shape, tokens, conditioning, noise);
        var decoded = Vae.Decode(Statistics.Denormalize(sampled), frames, height, width);
        return Enumerable.Range(0, captions.Count).Select(i => VideoClip.FromTensor(decoded.Select(0, i))).ToArray();
    }

    /// <summary>The VAE's decoding of <paramref name="clip"/>'s latent mean: what the decoder makes of a clip it is given.</summary>
    public VideoClip Reconstruct(VideoClip clip)
    {
        ArgumentNullException.ThrowIfNull(clip);
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        Vae.Eval();
        var (mean, _) = Vae.Encode(clip.ToTensor().Unsqueeze(0));
        return VideoClip.FromTensor(Vae.Decode(mean, clip.Frames, clip.Height, clip.Width).Select(0, 0));
    }

    // Conditioning clips must match the requested size: repeat the last frame to fill time; sizes must agree.
    private static VideoClip Resize(VideoClip clip, int frames, int height, int width)
    {
        if (clip.Height != height || clip.Width != width)
        {
            throw new ArgumentException($"a conditioning clip of {clip.Height}x{clip.Width} cannot condition a {height}x{width} video");
        }

        if (clip.Frames >= frames)
        {
            return clip.Frames == frames ? clip : clip.Slice(0, frames);
        }

        var bytes = new byte[frames * clip.FrameBytes];
        for (var f = 0; f < frames; f++)
        {
            clip.Frame(Math.Min(f, clip.Frames - 1)).CopyTo(bytes.AsSpan(f * clip.FrameBytes));
        }

        return new VideoClip(frames, height, width, bytes);
    }
}

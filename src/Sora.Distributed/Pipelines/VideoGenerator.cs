using Sora.Data.Video;
using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Model.Sampling;
using Sora.Model.Text;
using Sora.Model.Vae;
using Sora.Torch;

namespace Sora.Distributed.Pipelines;

/// <summary>
/// Text (and optionally given clips) to video: tokenise, sample latents with the DiT, denormalise, decode with the VAE.
/// Modes: plain, conditioned on a given prefix or suffix, an edit of a given clip (SDEdit), a connection of two clips, a loop.
/// </summary>
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
        IReadOnlyList<VideoClip>? given = null, int givenLatentFrames = 1) =>
        Render(captions, frames, height, width, seed, request =>
        {
            ConditioningFrames? conditioning = null;
            if (given is not null)
            {
                var latent = EncodeGiven(given, captions.Count, frames, height, width, alignEnd: false);
                conditioning = givenLatentFrames >= 0
                    ? ConditioningFrames.Prefix(latent, givenLatentFrames)
                    : ConditioningFrames.Suffix(latent, -givenLatentFrames);
            }

            return _sampler.Sample(Model, request.Shape, request.Tokens, conditioning, request.Noise);
        });

    /// <summary>
    /// SDEdit: each given clip re-imagined under its caption. Its latent is noised to time <paramref name="strength"/> with the
    /// seed's noise and denoised from there: 1 is a fresh sample, smaller strengths keep more of the clip (layout, motion).
    /// </summary>
    /// <param name="captions">The new prompts.</param>
    /// <param name="frames">Frames of each video.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="seed">Noise seed.</param>
    /// <param name="given">A clip per caption to edit.</param>
    /// <param name="strength">The time in (0, 1] the edit starts from.</param>
    public IReadOnlyList<VideoClip> Edit(IReadOnlyList<string> captions, int frames, int height, int width, ulong seed, IReadOnlyList<VideoClip> given, double strength) =>
        Render(captions, frames, height, width, seed, request =>
            _sampler.Edit(Model, EncodeGiven(given, captions.Count, frames, height, width, alignEnd: false), request.Tokens, strength, request.Noise));

    /// <summary>Videos that start as <paramref name="start"/> and end as <paramref name="end"/>: their first and last latent frames are kept, the frames between generated.</summary>
    /// <param name="captions">Prompts.</param>
    /// <param name="frames">Frames of each video.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="seed">Noise seed.</param>
    /// <param name="start">A clip per caption whose first latent frames begin the video.</param>
    /// <param name="end">A clip per caption whose last latent frames end it (its last <paramref name="frames"/> frames are aligned with the video's).</param>
    /// <param name="latentFrames">How many latent frames to keep at each end.</param>
    public IReadOnlyList<VideoClip> Connect(IReadOnlyList<string> captions, int frames, int height, int width, ulong seed,
        IReadOnlyList<VideoClip> start, IReadOnlyList<VideoClip> end, int latentFrames = 1)
    {
        Tensor? endLatent = null;
        return Render(
            captions, frames, height, width, seed,
            request =>
            {
                endLatent = EncodeGiven(end, captions.Count, frames, height, width, alignEnd: true);
                var conditioning = ConditioningFrames.Ends(EncodeGiven(start, captions.Count, frames, height, width, alignEnd: false), latentFrames, endLatent, latentFrames);
                return _sampler.Sample(Model, request.Shape, request.Tokens, conditioning, request.Noise);
            },
            pixels => WithGivenEnd(pixels, endLatent!, latentFrames));
    }

    /// <summary>Videos whose last latent frame is tied to their first while sampling, so that played in a loop they run on from their end into their start.</summary>
    /// <param name="captions">Prompts.</param>
    /// <param name="frames">Frames of each video.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="seed">Noise seed.</param>
    public IReadOnlyList<VideoClip> Loop(IReadOnlyList<string> captions, int frames, int height, int width, ulong seed) =>
        Render(captions, frames, height, width, seed, request => _sampler.Sample(Model, request.Shape, request.Tokens, noise: request.Noise, loop: true));

    // The steps every mode shares: the latent shape, caption tokens and seeded noise in; the sampled latents decoded to clips
    // (through finish, when a mode changes the decoded pixels).
    private VideoClip[] Render(IReadOnlyList<string> captions, int frames, int height, int width, ulong seed, Func<LatentRequest, Tensor> sample,
        Func<Tensor, Tensor>? finish = null)
    {
        ArgumentNullException.ThrowIfNull(captions);
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        Model.Eval();
        Vae.Eval();
        var (lt, lh, lw) = Vae.Config.LatentSize(frames, height, width);
        long[] shape = [captions.Count, Model.Config.LatentChannels, lt, lh, lw];
        var device = Model.Device;
        var tokens = DiTStage.Tokenize(Tokenizer, captions, Model.Config.MaxTextTokens).OnDevice(device);

        var saved = RandomState.GetState();
        Tensor noise;
        try
        {
            RandomState.ManualSeed(seed);
            // Drawn on the host, so a seed gives the same starting noise on any device.
            noise = _sampler.Flow.SampleNoise(shape).OnDevice(device);
        }
        finally
        {
            RandomState.SetState(saved);
        }

        var sampled = sample(new LatentRequest(shape, tokens, noise));
        var decoded = Vae.Decode(Statistics.Denormalize(sampled), frames, height, width);
        decoded = finish?.Invoke(decoded) ?? decoded;
        return Enumerable.Range(0, captions.Count).Select(i => VideoClip.FromTensor(decoded.Select(0, i))).ToArray();
    }

    /// <summary>The VAE's decoding of <paramref name="clip"/>'s latent mean: what the decoder makes of a clip it is given.</summary>
    public VideoClip Reconstruct(VideoClip clip)
    {
        ArgumentNullException.ThrowIfNull(clip);
        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        Vae.Eval();
        var (mean, _) = Vae.Encode(clip.ToTensor().Unsqueeze(0).OnDevice(Vae.Device));
        return VideoClip.FromTensor(Vae.Decode(mean, clip.Frames, clip.Height, clip.Width).Select(0, 0));
    }

    // The VAE's decoder is causal in time: decoded after generated frames, the given end's latent frames take on some of their
    // content (a red end after green frames came out yellow). The end's pixel frames are shown as the end clip's latents decode on their own.
    private Tensor WithGivenEnd(Tensor pixels, Tensor endLatent, int latentFrames)
    {
        var (frames, height, width) = (pixels.Size(2), pixels.Size(3), pixels.Size(4));
        var own = Vae.Decode(Statistics.Denormalize(endLatent), frames, height, width);
        var generated = (endLatent.Size(2) - latentFrames) * Vae.Config.TemporalDownsample;
        return Tensor.Cat([pixels.Narrow(2, 0, generated), own.Narrow(2, generated, frames - generated)], 2);
    }

    // Normalised latents of one given clip per caption, resized to the video's length.
    private Tensor EncodeGiven(IReadOnlyList<VideoClip> given, int captions, int frames, int height, int width, bool alignEnd)
    {
        ArgumentNullException.ThrowIfNull(given);
        if (given.Count != captions)
        {
            throw new ArgumentException($"{given.Count} conditioning clips for {captions} captions", nameof(given));
        }

        var pixels = Tensor.Stack(given.Select(c => Resize(c, frames, height, width, alignEnd).ToTensor()).ToArray()).OnDevice(Vae.Device);
        return Statistics.Normalize(Vae.Encode(pixels).Mean);
    }

    // Conditioning clips must match the requested size: sizes must agree; in time, the first (or, aligned to the end, the last)
    // frames are taken, and a short clip is filled by repeating its last (or first) frame.
    private static VideoClip Resize(VideoClip clip, int frames, int height, int width, bool alignEnd)
    {
        if (clip.Height != height || clip.Width != width)
        {
            throw new ArgumentException($"a conditioning clip of {clip.Height}x{clip.Width} cannot condition a {height}x{width} video");
        }

        if (clip.Frames >= frames)
        {
            return clip.Frames == frames ? clip : clip.Slice(alignEnd ? clip.Frames - frames : 0, frames);
        }

        var missing = frames - clip.Frames;
        var bytes = new byte[frames * clip.FrameBytes];
        for (var f = 0; f < frames; f++)
        {
            var source = alignEnd ? Math.Max(f - missing, 0) : Math.Min(f, clip.Frames - 1);
            clip.Frame(source).CopyTo(bytes.AsSpan(f * clip.FrameBytes));
        }

        return new VideoClip(frames, height, width, bytes);
    }

    // What a mode's sampler is handed: the latent shape, the caption ids and the seed's noise.
    private readonly record struct LatentRequest(long[] Shape, Tensor Tokens, Tensor Noise);
}

using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Torch;

namespace Sora.Model.Sampling;

/// <summary>
/// Integrates the learned velocity from noise (t = 1) to data (t = 0) with Euler steps on the same shifted
/// time grid as training, with classifier-free guidance: v = v_uncond + s·(v_cond − v_uncond). Given
/// conditioning frames are held at their clean values (and conditioned as t = 0) throughout. Two variations:
/// an edit (SDEdit) starts from a given latent noised to a time below 1 and runs only the steps below it; a loop
/// ties the last latent frame to the first at every step.
/// </summary>
public sealed class EulerSampler
{
    public EulerSampler(RectifiedFlow flow, SamplingOptions? options = null)
    {
        Flow = flow ?? throw new ArgumentNullException(nameof(flow));
        Options = (options ?? new SamplingOptions()).Validate();
    }

    public SamplingOptions Options { get; }

    /// <summary>The flow whose time shift and noise prior the sampler follows.</summary>
    public RectifiedFlow Flow { get; }

    /// <summary>
    /// The decreasing times from <paramref name="start"/> to 0 for a latent of <paramref name="tokens"/> tokens:
    /// <paramref name="start"/>, then the times of the full grid t_0 = 1 > ... > t_steps = 0 that lie below it.
    /// From 1 it is the full grid; from a lower time (an edit) only its remaining steps.
    /// </summary>
    public double[] TimeGrid(long tokens, double start = 1)
    {
        if (!(start is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"sampling starts at a time in (0, 1] (got {start})");
        }

        var shift = Flow.ShiftFor(tokens);
        var full = Enumerable.Range(0, Options.Steps + 1).Select(i => RectifiedFlow.Shift(1.0 - ((double)i / Options.Steps), shift));
        return full.Where(t => t < start).Prepend(start).ToArray();
    }

    /// <summary>Generates latents of <paramref name="shape"/> (N, C, T, H, W) for N captions.</summary>
    /// <param name="model">The (EMA) DiT, in eval mode.</param>
    /// <param name="shape">Latent shape.</param>
    /// <param name="captionTokens">(N, S) caption ids; the unconditional branch uses the empty caption.</param>
    /// <param name="conditioning">Frames to hold fixed, or null.</param>
    /// <param name="noise">The starting noise, or null to draw it from libtorch's generator.</param>
    /// <param name="loop">Tie the last latent frame to the first at every step, so the video ends where it starts.</param>
    public Tensor Sample(VideoDiT model, ReadOnlySpan<long> shape, Tensor captionTokens, ConditioningFrames? conditioning = null, Tensor? noise = null, bool loop = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var noGrad = Tensor.NoGrad();
        using var scope = Tensor.NewDisposeScope();
        if (loop && shape[2] < 2)
        {
            throw new ArgumentException($"a loop needs at least 2 latent frames (got {shape[2]})", nameof(loop));
        }

        var x = noise?.Clone() ?? Flow.SampleNoise(shape).OnDevice(model.Device);
        var grid = TimeGrid(model.TokenCount(shape[2], shape[3], shape[4]));
        return scope.MoveToOuter(Integrate(model, x, captionTokens, grid, conditioning, loop));
    }

    /// <summary>
    /// SDEdit: noises <paramref name="latent"/> (N, C, T, H, W) to time <paramref name="strength"/> along the flow's line,
    /// x_s = (1 − s)·x0 + s·ε, and integrates from there to 0 under the captions. 1 samples afresh from pure noise; a small
    /// strength stays close to the given latent.
    /// </summary>
    /// <param name="model">The (EMA) DiT, in eval mode.</param>
    /// <param name="latent">The clean latents to edit.</param>
    /// <param name="captionTokens">(N, S) caption ids of the new prompts.</param>
    /// <param name="strength">The time in (0, 1] the edit starts from.</param>
    /// <param name="noise">ε, or null to draw it from libtorch's generator.</param>
    public Tensor Edit(VideoDiT model, Tensor latent, Tensor captionTokens, double strength, Tensor? noise = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(latent);
        using var noGrad = Tensor.NoGrad();
        using var scope = Tensor.NewDisposeScope();
        var shape = latent.Shape;
        var grid = TimeGrid(model.TokenCount(shape[2], shape[3], shape[4]), strength);
        var x = RectifiedFlow.Interpolate(latent, noise ?? Flow.SampleNoise(shape).OnDevice(latent.Device), Tensor.Full([shape[0]], strength, device: latent.Device));
        return scope.MoveToOuter(Integrate(model, x, captionTokens, grid, conditioning: null, loop: false));
    }

    // Euler steps from x at grid[0] to grid[^1], holding the conditioning frames and the loop tie before every step and at the end.
    private Tensor Integrate(VideoDiT model, Tensor x, Tensor captionTokens, double[] grid, ConditioningFrames? conditioning, bool loop)
    {
        var shape = x.Shape;
        var n = shape[0];
        var guided = Options.GuidanceScale != 1;
        var tokens = guided ? Tensor.Cat([captionTokens, Tensor.Zeros(captionTokens.Shape, ScalarType.Int64, captionTokens.Device)]) : captionTokens;
        Tensor? cleanFrames = null;
        Tensor? frameMask = null;
        if (conditioning is not null)
        {
            frameMask = conditioning.Frames.Reshape(n, 1, shape[2], 1, 1);
            cleanFrames = guided ? Tensor.Cat([conditioning.Frames, conditioning.Frames]) : conditioning.Frames;
        }

        Tensor Constrain(Tensor latent)
        {
            if (frameMask is not null)
            {
                latent = Tensor.Where(frameMask, conditioning!.Latent, latent);
            }

            return loop ? TieLastFrameToFirst(latent) : latent;
        }

        for (var i = 0; i + 1 < grid.Length; i++)
        {
            using var step = Tensor.NewDisposeScope();
            x = Constrain(x);
            var input = guided ? Tensor.Cat([x, x]) : x;
            var t = Tensor.Full([input.Size(0)], grid[i], device: input.Device);
            var v = model.Forward(new DiTInput(input, t, tokens, CleanFrames: cleanFrames));
            if (guided)
            {
                var halves = v.Chunk(2);
                v = halves[1].Add(halves[0].Sub(halves[1]).Mul(Options.GuidanceScale));
            }

            x = step.MoveToOuter(x.Add(v.Mul(grid[i + 1] - grid[i])));
        }

        return Constrain(x);
    }

    /// <summary>(N, C, T, H, W) with latent frame T − 1 replaced by frame 0: every frame is at the same time, so this is the first frame noised to the current time.</summary>
    public static Tensor TieLastFrameToFirst(Tensor latent)
    {
        ArgumentNullException.ThrowIfNull(latent);
        var frames = latent.Size(2);
        return Tensor.Cat([latent.Narrow(2, 0, frames - 1), latent.Narrow(2, 0, 1)], 2);
    }
}

using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Torch;

namespace Sora.Model.Sampling;

/// <summary>
/// Integrates the learned velocity from noise (t = 1) to data (t = 0) with Euler steps on the same shifted
/// time grid as training, with classifier-free guidance: v = v_uncond + s·(v_cond − v_uncond). Given
/// conditioning frames are held at their clean values (and conditioned as t = 0) throughout.
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

    /// <summary>The decreasing times t_0 = 1 > ... > t_steps = 0 for a latent of <paramref name="tokens"/> tokens.</summary>
    public double[] TimeGrid(long tokens)
    {
        var shift = Flow.ShiftFor(tokens);
        return Enumerable.Range(0, Options.Steps + 1).Select(i => RectifiedFlow.Shift(1.0 - ((double)i / Options.Steps), shift)).ToArray();
    }

    /// <summary>Generates latents of <paramref name="shape"/> (N, C, T, H, W) for N captions.</summary>
    /// <param name="model">The (EMA) DiT, in eval mode.</param>
    /// <param name="shape">Latent shape.</param>
    /// <param name="captionTokens">(N, S) caption ids; the unconditional branch uses the empty caption.</param>
    /// <param name="conditioning">Frames to hold fixed, or null.</param>
    /// <param name="noise">The starting noise, or null to draw it from libtorch's generator.</param>
    public Tensor Sample(VideoDiT model, ReadOnlySpan<long> shape, Tensor captionTokens, ConditioningFrames? conditioning = null, Tensor? noise = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var noGrad = Tensor.NoGrad();
        using var scope = Tensor.NewDisposeScope();
        var n = shape[0];
        var guided = Options.GuidanceScale != 1;
        var tokens = guided ? Tensor.Cat([captionTokens, Tensor.Zeros(captionTokens.Shape, ScalarType.Int64)]) : captionTokens;
        var x = noise?.Clone() ?? Flow.SampleNoise(shape);
        Tensor? cleanFrames = null;
        Tensor? frameMask = null;
        if (conditioning is not null)
        {
            frameMask = conditioning.Frames.Reshape(n, 1, shape[2], 1, 1);
            cleanFrames = guided ? Tensor.Cat([conditioning.Frames, conditioning.Frames]) : conditioning.Frames;
        }

        var grid = TimeGrid(model.TokenCount(shape[2], shape[3], shape[4]));
        for (var i = 0; i < Options.Steps; i++)
        {
            using var step = Tensor.NewDisposeScope();
            if (frameMask is not null)
            {
                x = Tensor.Where(frameMask, conditioning!.Latent, x);
            }

            var input = guided ? Tensor.Cat([x, x]) : x;
            var t = Tensor.Full([input.Size(0)], grid[i]);
            var v = model.Forward(new DiTInput(input, t, tokens, CleanFrames: cleanFrames));
            if (guided)
            {
                var halves = v.Chunk(2);
                v = halves[1].Add(halves[0].Sub(halves[1]).Mul(Options.GuidanceScale));
            }

            x = step.MoveToOuter(x.Add(v.Mul(grid[i + 1] - grid[i])));
        }

        if (frameMask is not null)
        {
            x = Tensor.Where(frameMask, conditioning!.Latent, x);
        }

        return scope.MoveToOuter(x);
    }
}

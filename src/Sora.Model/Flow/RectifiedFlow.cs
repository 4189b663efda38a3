using Sora.Model.Dit;
using Sora.Torch;

namespace Sora.Model.Flow;

/// <summary>
/// Rectified flow: x_t = (1 − t)·x0 + t·ε on the straight line from data (t = 0) to noise (t = 1); the
/// model predicts the velocity ε − x0. t is drawn logit-normal, optionally shifted towards noise for
/// inputs with more tokens (t' = s·t / (1 + (s − 1)·t), s = √(tokens / base)).
/// </summary>
public sealed class RectifiedFlow
{
    public RectifiedFlow(FlowOptions? options = null) => Options = (options ?? new FlowOptions()).Validate();

    public FlowOptions Options { get; }

    /// <summary>x_t for t of shape (N) (one time per sample).</summary>
    public static Tensor Interpolate(Tensor x0, Tensor noise, Tensor t)
    {
        using var scope = Tensor.NewDisposeScope();
        var tt = Broadcastable(t, x0.Dim);
        return scope.MoveToOuter(x0.Mul(tt.RSub(1)).Add(noise.Mul(tt)));
    }

    /// <summary>The regression target ε − x0.</summary>
    public static Tensor Velocity(Tensor x0, Tensor noise) => noise.Sub(x0);

    /// <summary>The shift for an input of <paramref name="tokens"/> tokens (1 when shifting is off).</summary>
    public double ShiftFor(long tokens) =>
        Options.ResolutionShift ? Math.Clamp(Math.Sqrt((double)tokens / Options.ShiftBaseTokens), 1, Options.MaxShift) : 1;

    /// <summary>Applies the time shift s to t ∈ [0, 1].</summary>
    public static Tensor Shift(Tensor t, double shift) =>
        shift == 1 ? t.Alias() : t.Mul(shift).Div(t.Mul(shift - 1).Add(1));

    /// <inheritdoc cref="Shift(Tensor, double)"/>
    public static double Shift(double t, double shift) => shift * t / (1 + ((shift - 1) * t));

    /// <summary>
    /// Noise ε of <paramref name="shape"/> (N, C, T, H, W) from the prior: standard normal per element, with
    /// <see cref="FlowOptions.FrameNoiseCorrelation"/> of its variance shared by the frames of each sample.
    /// </summary>
    public Tensor SampleNoise(ReadOnlySpan<long> shape, ScalarType dtype = ScalarType.Float32)
    {
        var rho = Options.FrameNoiseCorrelation;
        if (rho == 0 || shape.Length != 5 || shape[2] < 2)
        {
            return Tensor.Randn(shape, dtype);
        }

        using var scope = Tensor.NewDisposeScope();
        var own = Tensor.Randn(shape, dtype);
        var shared = Tensor.Randn([shape[0], shape[1], 1, shape[3], shape[4]], dtype);
        return scope.MoveToOuter(own.Mul(Math.Sqrt(1 - rho)).Add(shared.Mul(Math.Sqrt(rho))));
    }

    /// <summary>n training times: sigmoid of N(mean, std), shifted for the token count.</summary>
    public Tensor SampleTimesteps(long n, long tokens)
    {
        using var scope = Tensor.NewDisposeScope();
        var t = Tensor.Randn([n]).Mul(Options.LogitStd).Add(Options.LogitMean).Sigmoid();
        return scope.MoveToOuter(Shift(t, ShiftFor(tokens)));
    }

    /// <summary>
    /// The training loss of one batch: noise, interpolate, predict, and the mean squared error against ε − x0
    /// over the elements that are not clean conditioning frames, averaged per sample and then over samples.
    /// </summary>
    /// <param name="model">The DiT.</param>
    /// <param name="x0">(N, C, T, H, W) clean latents.</param>
    /// <param name="captionTokens">(N, S) caption ids, already with dropped captions emptied; or null with embeddings.</param>
    /// <param name="captionEmbeddings">(N, text_dim) precomputed caption vectors, or null.</param>
    /// <param name="cleanFrames">(N, T) bool frames kept clean at t = 0 and left out of the loss, or null.</param>
    /// <param name="timesteps">(N) times to use, or null to sample them.</param>
    /// <param name="noise">The ε to use, or null to sample it.</param>
    public FlowLoss Loss(VideoDiT model, Tensor x0, Tensor? captionTokens, Tensor? captionEmbeddings = null, Tensor? cleanFrames = null,
        Tensor? timesteps = null, Tensor? noise = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = Tensor.NewDisposeScope();
        var shape = x0.Shape;
        var n = shape[0];
        // Drawn on the host generator whatever the device, so a run's random numbers do not depend on where it trains.
        var t = (timesteps ?? SampleTimesteps(n, model.TokenCount(shape[2], shape[3], shape[4]))).To(x0.Device);
        var eps = (noise ?? SampleNoise(shape, x0.DType)).To(x0.Device);
        cleanFrames = cleanFrames?.To(x0.Device);
        var xt = Interpolate(x0, eps, t);
        Tensor? lossWeights = null;
        if (cleanFrames is not null)
        {
            var frameMask = cleanFrames.Reshape(n, 1, shape[2], 1, 1);
            xt = Tensor.Where(frameMask, x0, xt);
            lossWeights = frameMask.LogicalNot().To(x0.DType).Expand(shape);
        }

        var prediction = model.Forward(new DiTInput(xt, t, captionTokens, captionEmbeddings, cleanFrames));
        var squared = prediction.Sub(Velocity(x0, eps)).Square();
        Tensor perSample;
        if (lossWeights is null)
        {
            perSample = squared.Mean([1, 2, 3, 4]);
        }
        else
        {
            perSample = squared.Mul(lossWeights).Sum([1, 2, 3, 4]).Div(lossWeights.Sum([1, 2, 3, 4]).Clamp(min: 1));
        }

        return new FlowLoss(scope.MoveToOuter(perSample.Mean()), scope.MoveToOuter(perSample.Detach()));
    }

    /// <summary>t of shape (N) as (N, 1, 1, ...) to broadcast over a tensor of <paramref name="dims"/> dims.</summary>
    internal static Tensor Broadcastable(Tensor t, int dims)
    {
        var shape = new long[dims];
        Array.Fill(shape, 1);
        shape[0] = t.Size(0);
        return t.Reshape(shape);
    }
}

/// <summary>A batch's rectified-flow loss: the scalar to backpropagate and each sample's value (detached).</summary>
public sealed record FlowLoss(Tensor Loss, Tensor PerSample);

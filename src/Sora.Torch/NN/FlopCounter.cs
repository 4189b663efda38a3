namespace Sora.Torch.NN;

/// <summary>
/// Counts the forward FLOPs of the convolutions and linear layers a thread runs while a count is open (multiply-adds
/// × 2 from each call's shapes), for models whose FLOPs have no closed form (the video VAE's towers): a stage opens a
/// count around its forward and reports 3× it (forward and backward) as the step's model FLOPs. Elementwise work and
/// normalisations are not counted, as MFU accounting usually leaves them out. Costs one thread-static check per call
/// when no count is open.
/// </summary>
public sealed class FlopCounter : IDisposable
{
    [ThreadStatic]
    private static FlopCounter? t_current;

    private readonly FlopCounter? _outer;

    private FlopCounter()
    {
        _outer = t_current;
        t_current = this;
    }

    /// <summary>The forward FLOPs counted since <see cref="Start"/>.</summary>
    public double Flops { get; private set; }

    /// <summary>Opens a count on this thread (counts nest: an inner count's FLOPs are the outer's too).</summary>
    public static FlopCounter Start() => new();

    public void Dispose()
    {
        if (t_current == this)
        {
            t_current = _outer;
            if (_outer is not null)
            {
                _outer.Flops += Flops;
            }
        }
    }

    /// <summary>A convolution: every output element takes weight.numel / out_channels multiply-adds.</summary>
    internal static void Convolution(Tensor output, Tensor weight)
    {
        if (t_current is { } count)
        {
            count.Flops += 2.0 * output.NumElements * (weight.NumElements / weight.Size(0));
        }
    }

    /// <summary>A transposed convolution: every input element spreads over weight.numel / in_channels outputs.</summary>
    internal static void TransposedConvolution(Tensor input, Tensor weight)
    {
        if (t_current is { } count)
        {
            count.Flops += 2.0 * input.NumElements * (weight.NumElements / weight.Size(0));
        }
    }

    /// <summary>A linear layer: every output element takes in_features multiply-adds.</summary>
    internal static void Linear(Tensor output, Tensor weight)
    {
        if (t_current is { } count)
        {
            count.Flops += 2.0 * output.NumElements * weight.Size(-1);
        }
    }
}

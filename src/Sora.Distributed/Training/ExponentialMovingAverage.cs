using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Distributed.Training;

/// <summary>
/// Shadow weights ema ← ema + (1 − d)·(param − ema) after every optimizer step. The decay ramps up as
/// min(decay, (1 + n) / (10 + n)) so the average is not stuck at the random initialisation.
/// </summary>
public sealed class ExponentialMovingAverage : IDisposable
{
    private readonly (string Name, Tensor Parameter, Tensor Shadow)[] _entries;

    public ExponentialMovingAverage(Module module, double decay)
        : this((module ?? throw new ArgumentNullException(nameof(module))).NamedParameters(), decay)
    {
    }

    /// <summary>Averages the given tensors (a module's parameters, or FSDP's shards), starting from their values now.</summary>
    public ExponentialMovingAverage(IEnumerable<(string Name, Tensor Parameter)> parameters, double decay)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (decay is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(decay), decay, "train.ema_decay: must be in [0, 1)");
        }

        Decay = decay;
        using var noGrad = Tensor.NoGrad();
        _entries = parameters.Select(p => (p.Name, p.Parameter, p.Parameter.Detach().Clone().DetachFromDisposeScope())).ToArray();
    }

    public double Decay { get; }

    /// <summary>Updates applied so far.</summary>
    public long Updates { get; internal set; }

    public void Update()
    {
        using var noGrad = Tensor.NoGrad();
        var decay = Math.Min(Decay, (1.0 + Updates) / (10.0 + Updates));
        foreach (var (_, parameter, shadow) in _entries)
        {
            shadow.Lerp_(parameter, 1 - decay);
        }

        Updates++;
    }

    /// <summary>The averaged weights by parameter name (new handles sharing the shadow memory, caller-owned).</summary>
    public Dictionary<string, Tensor> StateDict() => _entries.ToDictionary(e => e.Name, e => e.Shadow.Alias(), StringComparer.Ordinal);

    /// <summary>Copies the averaged weights into a module of the same architecture (buffers are left as they are).</summary>
    public void CopyTo(Module target)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var scope = Tensor.NewDisposeScope();
        var state = target.StateDict();
        foreach (var (name, _, shadow) in _entries)
        {
            state[name] = shadow;
        }

        target.LoadStateDict(state);
    }

    /// <summary>
    /// Puts the averaged weights into the averaged tensors themselves until the scope is disposed, when the
    /// trained weights come back (evaluating or sampling "with the EMA" without a second model).
    /// </summary>
    public IDisposable UseAveragedWeights()
    {
        using var noGrad = Tensor.NoGrad();
        using var scope = Tensor.NewDisposeScope();
        var trained = _entries.Select(e => e.Parameter.Detach().Clone().DetachFromDisposeScope()).ToArray();
        foreach (var (_, parameter, shadow) in _entries)
        {
            parameter.Detach().Copy_(shadow);
        }

        return new TrainedWeights(_entries, trained);
    }

    /// <summary>Restores averaged weights saved with <see cref="StateDict"/>.</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> state, long updates)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var noGrad = Tensor.NoGrad();
        foreach (var (name, _, shadow) in _entries)
        {
            if (!state.TryGetValue(name, out var value))
            {
                throw new InvalidDataException($"EMA state lacks '{name}'");
            }

            shadow.Copy_(value);
        }

        Updates = updates;
    }

    public void Dispose()
    {
        foreach (var (_, _, shadow) in _entries)
        {
            shadow.Dispose();
        }
    }

    private sealed class TrainedWeights((string Name, Tensor Parameter, Tensor Shadow)[] entries, Tensor[] trained) : IDisposable
    {
        public void Dispose()
        {
            using var noGrad = Tensor.NoGrad();
            using var scope = Tensor.NewDisposeScope();
            for (var i = 0; i < entries.Length; i++)
            {
                entries[i].Parameter.Detach().Copy_(trained[i]);
                trained[i].Dispose();
            }
        }
    }
}

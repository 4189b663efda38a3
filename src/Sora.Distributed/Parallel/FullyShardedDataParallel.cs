using Sora.Torch;
using Sora.Torch.Autograd;
using Sora.Torch.Distributed;
using Sora.Torch.NN;

namespace Sora.Distributed.Parallel;

/// <summary>
/// Fully sharded data parallelism (ZeRO-3, after PyTorch's FSDP): the trainable parameters are grouped
/// into units (each given module, typically a transformer block, plus a root unit of everything else),
/// each unit flattened, padded to a multiple of the world size and sharded. A unit's full parameters are
/// all-gathered just before its forward and freed after it, gathered again when backward reaches it
/// (a gradient hook on its output), and freed once its gradients are reduce-scattered to their owners.
/// With prefetch on, the next unit's gather (the previous one's in backward) overlaps the current compute.
/// The optimizer updates only this rank's shards. The root unit stays gathered from
/// <see cref="BeginStep"/> to the end of backward (PyTorch's default for the root as well).
/// Mixed precision (a compute dtype such as bf16): the shards, their gradients and the optimizer stay in the
/// parameters' dtype; units are gathered and computed in the compute dtype, gradients are reduced in the
/// parameters' dtype, and <see cref="SummonFullParameters"/> gives the full-precision weights.
/// </summary>
public sealed class FullyShardedDataParallel : IForwardHooks, IDisposable
{
    private readonly ProcessGroup _group;
    private readonly List<FlatParameterShard> _units = [];
    private readonly Dictionary<Module, int> _unitOf = new(ReferenceEqualityComparer.Instance);
    private readonly List<GradientHook> _parameterHooks = [];
    private readonly List<GradientHook> _outputHooks = [];
    private readonly List<FlatParameterShard> _reducing = [];
    private readonly FlatParameterShard? _root;
    private bool _summoned;

    /// <summary>Shards <paramref name="model"/> over <paramref name="group"/>, one unit per module in <paramref name="units"/> (in forward order).</summary>
    public FullyShardedDataParallel(Module model, IEnumerable<Module> units, ProcessGroup group, bool prefetch = true, ScalarType? computeDType = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(units);
        _group = group ?? throw new ArgumentNullException(nameof(group));
        Model = model;
        Prefetch = prefetch;
        DistributedDataParallel.BroadcastFromRankZero(model, group);

        var names = model.NamedParameters().ToDictionary<(string Name, Tensor Parameter), Tensor, string>(p => p.Parameter, p => p.Name, ReferenceEqualityComparer.Instance);
        var claimed = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var module in units)
        {
            var members = module.Parameters().Where(p => p.RequiresGrad && claimed.Add(p)).Select(p => (names[p], p)).ToList();
            if (members.Count == 0)
            {
                continue;
            }

            _unitOf[module] = _units.Count;
            _units.Add(new FlatParameterShard($"unit{_units.Count}", module, members, group, computeDType));
            module.ForwardHooks = this;
        }

        var rest = model.NamedParameters().Where(p => p.Parameter.RequiresGrad && !claimed.Contains(p.Parameter)).ToList();
        if (rest.Count > 0)
        {
            _root = new FlatParameterShard("root", null, rest, group, computeDType);
            _units.Add(_root);
        }

        foreach (var unit in _units)
        {
            foreach (var (_, parameter) in unit.Parameters)
            {
                var owner = unit;
                _parameterHooks.Add(parameter.RegisterPostAccumulateGradHook(_ => OnGradient(owner)));
            }
        }
    }

    public Module Model { get; }

    /// <summary>The dtype the model computes in while wrapped (its parameters' own unless mixed precision was asked for).</summary>
    public ScalarType ComputeDType => _units.Count > 0 ? _units[0].ComputeDType : ScalarType.Float32;

    /// <summary>Whether the next unit's gather is started while the current unit computes.</summary>
    public bool Prefetch { get; }

    /// <summary>This rank's shards: what the optimizer updates.</summary>
    public IReadOnlyList<Tensor> ShardParameters => _units.Select(u => u.Shard).ToArray();

    /// <summary>The shards by unit name ("unit0", ..., "root"), e.g. for an EMA of the shards.</summary>
    public IEnumerable<(string Name, Tensor Shard)> NamedShards => _units.Select(u => (u.Name, u.Shard));

    /// <summary>
    /// Where each parameter's elements lie in this rank's shards: for every parameter overlapping shard u, the range
    /// [Start, End) of its flattened elements held here, at Offset within shard u. (Checkpoints save and load by
    /// parameter name and range, so any world size can read them.)
    /// </summary>
    public IEnumerable<(string Name, long[] Shape, ScalarType DType, int Unit, long Start, long End, long Offset)> ShardLayout()
    {
        for (var u = 0; u < _units.Count; u++)
        {
            var unit = _units[u];
            var first = _group.Rank * unit.ShardNumel;
            var last = first + unit.ShardNumel;
            long offset = 0;
            foreach (var (name, parameter) in unit.Parameters)
            {
                var numel = parameter.NumElements;
                var from = Math.Max(offset, first);
                var to = Math.Min(offset + numel, last);
                if (from < to)
                {
                    yield return (name, unit.ParameterShapes[name], unit.Shard.DType, u, from - offset, to - offset, from - first);
                }

                offset += numel;
            }
        }
    }

    /// <summary>Full bytes of each unit's (padded) flat parameters, in unit order (root last).</summary>
    public IReadOnlyList<long> UnitBytes => _units.Select(u => u.FullBytes).ToArray();

    /// <summary>Bytes of full parameters and full gradients this rank holds now.</summary>
    public long GatheredBytes => _units.Sum(u => u.GatheredBytes);

    /// <summary>The most <see cref="GatheredBytes"/> seen since the last <see cref="ResetPeak"/>.</summary>
    public long PeakGatheredBytes { get; private set; }

    public void ResetPeak() => PeakGatheredBytes = GatheredBytes;

    /// <summary>Gathers the root unit; call before each forward of a training step.</summary>
    public void BeginStep()
    {
        _root?.Gather();
        Track();
    }

    /// <summary>
    /// Call after each backward: reduce-scatters what the hooks have not yet (units whose parameters got no
    /// gradient count as zeros), adds the results to the shards' gradients and frees every full buffer.
    /// </summary>
    public void FinishBackward()
    {
        foreach (var unit in _units.Where(u => u.NeedsReduce))
        {
            StartReduceScatter(unit);
        }

        foreach (var unit in _units)
        {
            unit.FinishReduceScatter();
        }

        _reducing.Clear();
        foreach (var hook in _outputHooks)
        {
            hook.Dispose();
        }

        _outputHooks.Clear();
    }

    /// <summary>
    /// Clips the shards' gradients by the global L2 norm over all ranks (the norm of the full gradient) and
    /// returns the norm before clipping; non-finite norms are returned without scaling.
    /// </summary>
    public double ClipGradients(double maxNorm)
    {
        using var scope = Tensor.NewDisposeScope();
        var grads = _units.Select(u => u.Shard.Grad()).Where(g => g is not null).Select(g => g!).ToArray();
        var squares = Tensor.Zeros([1], ScalarType.Float64, _units[0].Shard.Device);
        foreach (var grad in grads)
        {
            squares.Add_(grad.To(ScalarType.Float64).Square().Sum().Reshape(1));
        }

        using (var work = _group.AllReduce(squares))
        {
            work.Wait();
        }

        var norm = Math.Sqrt(squares.ItemDouble());
        if (maxNorm > 0 && double.IsFinite(norm))
        {
            var factor = maxNorm / (norm + 1e-6);
            if (factor < 1)
            {
                Sora.Torch.Optim.ForEach.Scale_(grads, factor);
            }
        }

        return norm;
    }

    /// <summary>
    /// Gathers every unit (a collective: every rank must call it) and keeps the full parameters in the model
    /// until the returned scope is disposed, so it can be evaluated, sampled or saved as a whole.
    /// </summary>
    public IDisposable SummonFullParameters()
    {
        if (_units.Any(u => u.ComputeDType != u.Shard.DType))
        {
            // Mixed precision: the master weights, not their compute-dtype copy.
            foreach (var unit in _units)
            {
                unit.GatherFullPrecision();
            }
        }
        else
        {
            foreach (var unit in _units)
            {
                unit.StartGather();
            }

            foreach (var unit in _units)
            {
                unit.Gather();
            }
        }

        _summoned = true;
        Track();
        return new Summoned(this);
    }

    /// <summary>
    /// Ends sharding for good (a collective): gathers every unit, gives each parameter its own full copy,
    /// and removes the hooks, so the model is an ordinary module again (to save or sample after training).
    /// Dispose afterwards as usual.
    /// </summary>
    public void Unshard()
    {
        // Copies are taken while summoned and given to the parameters after the summon ends, since ending it
        // points the parameters back at their (freed) gathered views.
        using var noGrad = Tensor.NoGrad();
        var copies = new List<(Tensor Parameter, Tensor Copy)>();
        using (SummonFullParameters())
        {
            foreach (var unit in _units)
            {
                copies.AddRange(unit.Parameters.Select(p => (p.Parameter, p.Parameter.Detach().Clone().DetachFromDisposeScope())));
            }
        }

        foreach (var (parameter, copy) in copies)
        {
            parameter.SetData(copy);
            copy.Dispose();
        }

        foreach (var hook in _parameterHooks.Concat(_outputHooks))
        {
            hook.Dispose();
        }

        _parameterHooks.Clear();
        _outputHooks.Clear();
        foreach (var module in _unitOf.Keys)
        {
            module.ForwardHooks = null;
        }

        _unitOf.Clear();
    }

    /// <inheritdoc />
    public void BeforeForward(Module module)
    {
        if (_summoned || !_unitOf.TryGetValue(module, out var index))
        {
            return;
        }

        _units[index].Gather();
        if (Prefetch && index + 1 < _units.Count && _units[index + 1] != _root)
        {
            _units[index + 1].StartGather();
        }

        Track();
    }

    /// <inheritdoc />
    public void AfterForward(Module module, object? output)
    {
        if (_summoned || !_unitOf.TryGetValue(module, out var index))
        {
            return;
        }

        var unit = _units[index];
        unit.Free();
        if (output is Tensor { RequiresGrad: true } tensor)
        {
            // Backward reaches this unit when the gradient of its output arrives: gather it again then.
            _outputHooks.Add(tensor.RegisterHook(_ =>
            {
                unit.Gather();
                if (Prefetch && index > 0)
                {
                    _units[index - 1].StartGather();
                }

                Track();
                return null;
            }));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var hook in _parameterHooks.Concat(_outputHooks))
        {
            hook.Dispose();
        }

        foreach (var module in _unitOf.Keys)
        {
            module.ForwardHooks = null;
        }

        foreach (var unit in _units)
        {
            unit.Dispose();
        }
    }

    private void OnGradient(FlatParameterShard unit)
    {
        if (!_summoned && unit.GradientReady())
        {
            StartReduceScatter(unit);
        }
    }

    private void StartReduceScatter(FlatParameterShard unit)
    {
        unit.StartReduceScatter();
        Track();

        // At most this reduce-scatter stays in flight: finishing the earlier ones frees their full
        // gradients, so backward holds one unit's worth of them, not the whole model's.
        foreach (var earlier in _reducing)
        {
            earlier.FinishReduceScatter();
        }

        _reducing.Clear();
        _reducing.Add(unit);
    }

    private void Track() => PeakGatheredBytes = Math.Max(PeakGatheredBytes, GatheredBytes);

    private sealed class Summoned(FullyShardedDataParallel owner) : IDisposable
    {
        public void Dispose()
        {
            foreach (var unit in owner._units)
            {
                unit.Free();
            }

            owner._summoned = false;
        }
    }
}

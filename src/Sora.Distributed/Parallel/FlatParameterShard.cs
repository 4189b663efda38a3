using Sora.Torch;
using Sora.Torch.Distributed;
using Sora.Torch.NN;

namespace Sora.Distributed.Parallel;

/// <summary>
/// One FSDP unit's parameters as one flat buffer, padded to a multiple of the world size and sharded:
/// this rank keeps <see cref="Shard"/> (what the optimizer updates) and its gradient. The unit's
/// parameters are views into <c>_full</c>, whose storage is allocated and all-gathered only while the unit
/// runs (forward, then backward) and resized to nothing otherwise; autograd's saved views of it become
/// valid again when it is re-gathered in place.
/// With a compute dtype other than the parameters' (mixed precision), the shard and its gradient stay in the
/// parameters' dtype (fp32 master weights), the full buffer is gathered in the compute dtype (half the bytes on
/// the wire and in memory), the module computes in it, and gradients are reduce-scattered in the parameters'
/// dtype. <see cref="GatherFullPrecision"/> gathers the master weights themselves, for state dicts and sampling.
/// </summary>
internal sealed class FlatParameterShard : IDisposable
{
    private readonly ProcessGroup _group;
    private readonly Tensor _full;
    private readonly Tensor[] _views;
    private readonly long _fullBytes;
    private CollectiveWork? _gather;
    private CollectiveWork? _reduce;
    private Tensor? _gradientInput;
    private Tensor? _gradientOutput;
    private Tensor? _gatherInput;
    private Tensor? _master;
    private Tensor[]? _masterViews;
    private int _pendingGradients;

    public FlatParameterShard(string name, Module? module, IReadOnlyList<(string Name, Tensor Parameter)> parameters, ProcessGroup group,
        ScalarType? computeDType = null)
    {
        Name = name;
        Module = module;
        Parameters = parameters;
        _group = group;
        var dtype = parameters[0].Parameter.DType;
        if (parameters.Any(p => p.Parameter.DType != dtype))
        {
            throw new ArgumentException($"FSDP unit '{name}' mixes parameter dtypes; one flat buffer needs one dtype");
        }

        var device = parameters[0].Parameter.Device;
        if (parameters.FirstOrDefault(p => p.Parameter.Device != device) is { Name: not null } stray)
        {
            throw new ArgumentException($"FSDP unit '{name}' mixes devices: '{stray.Name}' is on {stray.Parameter.Device}, " +
                $"'{parameters[0].Name}' on {device}; move the model to one device before wrapping it");
        }

        ComputeDType = computeDType ?? dtype;
        if (ComputeDType != dtype && !dtype.IsFloatingPoint())
        {
            throw new ArgumentException($"FSDP unit '{name}': mixed precision needs floating-point parameters, got {dtype}");
        }

        Numel = parameters.Sum(p => p.Parameter.NumElements);
        ParameterShapes = parameters.ToDictionary(p => p.Name, p => p.Parameter.Shape, StringComparer.Ordinal);
        PaddedNumel = (Numel + group.WorldSize - 1) / group.WorldSize * group.WorldSize;
        ShardNumel = PaddedNumel / group.WorldSize;

        using var scope = Tensor.NewDisposeScope();
        using var noGrad = Tensor.NoGrad();
        var master = Tensor.Zeros([PaddedNumel], dtype, device);
        _full = ComputeDType == dtype ? master.Alias().DetachFromDisposeScope() : Tensor.Zeros([PaddedNumel], ComputeDType, device).DetachFromDisposeScope();
        _fullBytes = _full.StorageBytes;
        long offset = 0;
        foreach (var (_, parameter) in parameters)
        {
            master.Narrow(0, offset, parameter.NumElements).Copy_(parameter.View(-1));
            offset += parameter.NumElements;
        }

        _views = PointParametersAt(_full);

        Shard = master.Narrow(0, group.Rank * ShardNumel, ShardNumel).Clone().DetachFromDisposeScope();
        Shard.RequiresGrad = true;
        Free();
    }

    public string Name { get; }

    /// <summary>The module whose forward gathers this unit, or null for the root unit (gathered for the whole step).</summary>
    public Module? Module { get; }

    public IReadOnlyList<(string Name, Tensor Parameter)> Parameters { get; }

    public long Numel { get; }

    /// <summary>Each parameter's full shape (its tensor's own shape is that too, but its storage may be freed).</summary>
    public IReadOnlyDictionary<string, long[]> ParameterShapes { get; }

    public long PaddedNumel { get; }

    public long ShardNumel { get; }

    /// <summary>This rank's slice of the flat parameters; the optimizer's parameter (its gradient is set after backward).</summary>
    public Tensor Shard { get; }

    public bool IsGathered { get; private set; }

    public long FullBytes => _fullBytes;

    /// <summary>The dtype the unit's module computes in (the parameters' own unless mixed precision).</summary>
    public ScalarType ComputeDType { get; }

    /// <summary>Bytes this unit holds in full form now (parameters gathered, master weights summoned, gradients being reduced).</summary>
    public long GatheredBytes => (IsGathered ? _fullBytes : 0) + (_master?.ByteCount ?? 0) + (_gradientInput?.ByteCount ?? 0);

    /// <summary>Starts gathering the full parameters (no-op when gathered or on the way).</summary>
    public void StartGather()
    {
        if (IsGathered || _gather is not null)
        {
            return;
        }

        _full.ResizeStorage(_fullBytes);
        using (Tensor.NewDisposeScope())
        {
            // The shard itself (an alias) unless mixed precision, then its compute-dtype copy.
            _gatherInput = Shard.Detach().To(ComputeDType).DetachFromDisposeScope();
        }

        _gather = _group.AllGather(_full, _gatherInput);
    }

    /// <summary>
    /// Gathers the full parameters in their own dtype (the master weights), blocking. Without mixed precision this
    /// is <see cref="Gather"/>; with it the parameters point at an fp32 copy until <see cref="Free"/>.
    /// </summary>
    public void GatherFullPrecision()
    {
        if (ComputeDType == Shard.DType)
        {
            Gather();
            return;
        }

        Free();
        _master = Tensor.Empty([PaddedNumel], Shard.DType, Shard.Device).DetachFromDisposeScope();
        using (var work = _group.AllGather(_master, Shard))
        {
            work.Wait();
        }

        _masterViews = PointParametersAt(_master);
    }

    // Makes every parameter a view of its range of flat (in order) and returns the views.
    private Tensor[] PointParametersAt(Tensor flat)
    {
        using var scope = Tensor.NewDisposeScope();
        var views = new Tensor[Parameters.Count];
        long offset = 0;
        for (var i = 0; i < Parameters.Count; i++)
        {
            var (name, parameter) = Parameters[i];
            var shape = ParameterShapes[name];
            var numel = shape.Aggregate(1L, (a, b) => a * b);
            views[i] = flat.Narrow(0, offset, numel).View(shape).DetachFromDisposeScope();
            parameter.SetData(views[i]);
            offset += numel;
        }

        return views;
    }

    /// <summary>Makes the full parameters usable: waits for the gather (starting it if needed).</summary>
    public void Gather()
    {
        if (IsGathered)
        {
            return;
        }

        StartGather();
        _gather!.Wait();
        _gather.Dispose();
        _gather = null;
        _gatherInput?.Dispose();
        _gatherInput = null;
        IsGathered = true;
        _pendingGradients = Parameters.Count;
        NeedsReduce = true;
    }

    /// <summary>Gathered since its gradients were last reduce-scattered: this step's backward owes a reduce-scatter.</summary>
    public bool NeedsReduce { get; private set; }

    /// <summary>Releases the full parameters' memory; the views stay, empty, until the next gather.</summary>
    public void Free()
    {
        if (_gather is not null)
        {
            _gather.Wait();
            _gather.Dispose();
            _gather = null;
            _gatherInput?.Dispose();
            _gatherInput = null;
        }

        if (_master is not null)
        {
            // Back from the summoned master weights to the (empty) compute-dtype views.
            for (var i = 0; i < Parameters.Count; i++)
            {
                Parameters[i].Parameter.SetData(_views[i]);
                _masterViews![i].Dispose();
            }

            _masterViews = null;
            _master.Dispose();
            _master = null;
        }

        _full.ResizeStorage(0);
        IsGathered = false;
    }

    /// <summary>Counts one parameter's gradient as accumulated; true when it was the unit's last.</summary>
    public bool GradientReady() => --_pendingGradients == 0;

    /// <summary>
    /// Flattens the full gradients (missing ones count as zeros), starts their reduce-scatter (average over
    /// ranks) into this rank's slice, drops the full gradients, and frees the full parameters.
    /// </summary>
    public void StartReduceScatter()
    {
        if (_reduce is not null || !NeedsReduce)
        {
            return;
        }

        NeedsReduce = false;

        using (var scope = Tensor.NewDisposeScope())
        {
            var flat = Tensor.Zeros([PaddedNumel], Shard.DType, Shard.Device);
            long offset = 0;
            foreach (var (_, parameter) in Parameters)
            {
                var grad = parameter.Grad();
                if (grad is not null)
                {
                    flat.Narrow(0, offset, parameter.NumElements).Copy_(grad.View(-1));
                }

                parameter.SetGrad(null);
                offset += parameter.NumElements;
            }

            _gradientInput = flat.DetachFromDisposeScope();
            _gradientOutput = Tensor.Zeros([ShardNumel], Shard.DType, Shard.Device).DetachFromDisposeScope();
        }

        _reduce = _group.ReduceScatter(_gradientOutput, _gradientInput, ReduceOp.Avg);
        Free();
    }

    /// <summary>Waits for the reduce-scatter and adds the result to the shard's gradient (accumulation adds up).</summary>
    public void FinishReduceScatter()
    {
        if (_reduce is null)
        {
            return;
        }

        _reduce.Wait();
        _reduce.Dispose();
        _reduce = null;
        _gradientInput!.Dispose();
        _gradientInput = null;
        using var scope = Tensor.NewDisposeScope();
        var grad = Shard.Grad();
        if (grad is null)
        {
            Shard.SetGrad(_gradientOutput!);
        }
        else
        {
            grad.Add_(_gradientOutput!);
        }

        _gradientOutput!.Dispose();
        _gradientOutput = null;
    }

    /// <summary>This rank's parameters as a full tensor per parameter, after a gather (for state dicts).</summary>
    public IEnumerable<(string Name, Tensor View)> FullViews() => Parameters.Select((p, i) => (p.Name, (_masterViews ?? _views)[i]));

    public void Dispose()
    {
        _gather?.Dispose();
        _gatherInput?.Dispose();
        _reduce?.Dispose();
        if (_masterViews is not null)
        {
            foreach (var view in _masterViews)
            {
                view.Dispose();
            }
        }

        _master?.Dispose();
        _gradientInput?.Dispose();
        _gradientOutput?.Dispose();
        foreach (var view in _views)
        {
            view.Dispose();
        }

        _full.Dispose();
        Shard.Dispose();
    }
}

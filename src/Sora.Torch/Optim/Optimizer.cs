namespace Sora.Torch.Optim;

/// <summary>
/// Base of optimizers: the parameters, the learning rate (changeable every step), and per-parameter
/// state that can be read and written, so that sharded checkpoints can save and restore it.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly Tensor[] _parameters;
    private readonly ParameterSlot[] _slots;
    private bool _disposed;

    protected Optimizer(IEnumerable<Tensor> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters.ToArray();
        if (_parameters.Length == 0)
        {
            throw new ArgumentException("the optimizer got no parameters", nameof(parameters));
        }

        if (_parameters.Distinct(ReferenceEqualityComparer.Instance).Count() != _parameters.Length)
        {
            throw new ArgumentException("a parameter appears more than once", nameof(parameters));
        }

        _slots = new ParameterSlot[_parameters.Length];
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new ParameterSlot();
        }

        LearningRate = learningRate;
    }

    /// <summary>The learning rate the next <see cref="Step"/> uses.</summary>
    public double LearningRate { get; set; }

    public IReadOnlyList<Tensor> Parameters => _parameters;

    /// <summary>Names of the state tensors each parameter carries (exp_avg, ...).</summary>
    public abstract IReadOnlyList<string> StateNames { get; }

    /// <summary>The hyperparameters, by name, for checkpoints and logs.</summary>
    public abstract IReadOnlyDictionary<string, double> Hyperparameters { get; }

    /// <summary>Updates every parameter that has a gradient.</summary>
    public abstract void Step();

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in _parameters)
        {
            parameter.SetGrad(null);
        }
    }

    /// <summary>
    /// Parameter <paramref name="index"/>'s state: its step count and state tensors as new handles
    /// sharing the optimizer's memory (caller-owned). Null before its first update.
    /// </summary>
    public ParameterState? GetState(int index)
    {
        var slot = _slots[index];
        if (slot.Tensors is null)
        {
            return null;
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var i = 0; i < StateNames.Count; i++)
        {
            tensors[StateNames[i]] = slot.Tensors[i].Alias();
        }

        return new ParameterState(slot.Step, tensors);
    }

    /// <summary>Replaces parameter <paramref name="index"/>'s state with copies of <paramref name="state"/>'s tensors.</summary>
    public void SetState(int index, ParameterState? state)
    {
        var slot = _slots[index];
        if (state is null)
        {
            slot.Clear();
            return;
        }

        var parameter = _parameters[index];
        var copies = new Tensor[StateNames.Count];
        for (var i = 0; i < copies.Length; i++)
        {
            var name = StateNames[i];
            if (!state.Tensors.TryGetValue(name, out var source))
            {
                throw new InvalidDataException($"optimizer state of parameter {index} lacks '{name}' (has {string.Join(", ", state.Tensors.Keys)})");
            }

            if (!source.Shape.SequenceEqual(parameter.Shape))
            {
                throw new InvalidDataException(
                    $"optimizer state '{name}' of parameter {index} has shape [{string.Join(", ", source.Shape)}] but the parameter has [{string.Join(", ", parameter.Shape)}]");
            }
        }

        for (var i = 0; i < copies.Length; i++)
        {
            copies[i] = NewStateTensor(parameter).Copy_(state.Tensors[StateNames[i]]);
        }

        slot.Set(state.Step, copies);
    }

    /// <summary>All parameters' state (null entries for parameters never updated), plus hyperparameters.</summary>
    public OptimizerState StateDict() =>
        new(GetType().Name, Hyperparameters, LearningRate, Enumerable.Range(0, _parameters.Length).Select(GetState).ToArray());

    /// <summary>Restores state saved by <see cref="StateDict"/> for the same parameters in the same order.</summary>
    public void LoadStateDict(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Kind != GetType().Name)
        {
            throw new InvalidDataException($"optimizer state was saved by {state.Kind}, not {GetType().Name}");
        }

        if (state.Parameters.Count != _parameters.Length)
        {
            throw new InvalidDataException($"optimizer state holds {state.Parameters.Count} parameters but the optimizer has {_parameters.Length}");
        }

        LearningRate = state.LearningRate;
        for (var i = 0; i < _parameters.Length; i++)
        {
            SetState(i, state.Parameters[i]);
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            _disposed = true;
            foreach (var slot in _slots)
            {
                slot.Clear();
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="update"/> over groups of parameters that have gradients and share a step count,
    /// with raw handle arrays (parameters, grads, then each state tensor), after creating missing state.
    /// </summary>
    protected unsafe void ForEachGroup(Action<UpdateGroup> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = DisposeScope.Enter();
        var ready = new List<(int Index, Tensor Grad)>();
        for (var i = 0; i < _parameters.Length; i++)
        {
            if (_parameters[i].Grad() is { } grad)
            {
                ready.Add((i, grad));
            }
        }

        foreach (var group in ready.GroupBy(r => _slots[r.Index].Step))
        {
            var members = group.ToArray();
            foreach (var (index, _) in members)
            {
                if (_slots[index].Tensors is null)
                {
                    var tensors = new Tensor[StateNames.Count];
                    for (var s = 0; s < tensors.Length; s++)
                    {
                        tensors[s] = NewStateTensor(_parameters[index]).Zero_();
                    }

                    _slots[index].Set(0, tensors);
                }
            }

            var handles = new IntPtr[2 + StateNames.Count][];
            for (var h = 0; h < handles.Length; h++)
            {
                handles[h] = new IntPtr[members.Length];
            }

            for (var m = 0; m < members.Length; m++)
            {
                var (index, grad) = members[m];
                handles[0][m] = _parameters[index].RawHandle;
                handles[1][m] = grad.RawHandle;
                for (var s = 0; s < StateNames.Count; s++)
                {
                    handles[2 + s][m] = _slots[index].Tensors![s].RawHandle;
                }
            }

            var step = group.Key + 1;
            update(new UpdateGroup(handles, members.Length, step));
            foreach (var (index, _) in members)
            {
                _slots[index].Step = step;
            }

            GC.KeepAlive(_parameters);
            GC.KeepAlive(_slots);
        }
    }

    private static Tensor NewStateTensor(Tensor parameter) =>
        Tensor.Empty(parameter.Shape, parameter.DType, parameter.Device).DetachFromDisposeScope();

    /// <summary>
    /// Raw handles of one update group: [0] parameters, [1] gradients, [2..] state tensors in <see cref="StateNames"/> order.
    /// <paramref name="Step"/> is the 1-based count this update makes; 1 means the state was just created (zeros).
    /// </summary>
    protected readonly record struct UpdateGroup(IntPtr[][] Handles, int Count, long Step);

    private sealed class ParameterSlot
    {
        public long Step { get; set; }

        public Tensor[]? Tensors { get; private set; }

        public void Set(long step, Tensor[] tensors)
        {
            Clear();
            Step = step;
            Tensors = tensors;
        }

        public void Clear()
        {
            foreach (var tensor in Tensors ?? [])
            {
                tensor.Dispose();
            }

            Tensors = null;
            Step = 0;
        }
    }
}

/// <summary>One parameter's optimizer state: its update count and named state tensors.</summary>
public sealed record ParameterState(long Step, IReadOnlyDictionary<string, Tensor> Tensors);

/// <summary>An optimizer's whole state, as saved in checkpoints.</summary>
public sealed record OptimizerState(
    string Kind,
    IReadOnlyDictionary<string, double> Hyperparameters,
    double LearningRate,
    IReadOnlyList<ParameterState?> Parameters);

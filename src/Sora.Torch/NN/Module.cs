using Sora.Torch.Autograd;

namespace Sora.Torch.NN;

/// <summary>
/// A neural-network module: named parameters, buffers and child modules, a training flag, and a
/// state dict. The module owns its parameters and buffers (they are outside any dispose scope)
/// and releases them, and its children, on <see cref="Dispose()"/>.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<KeyValuePair<string, Tensor>> _parameters = [];
    private readonly List<KeyValuePair<string, Tensor>> _buffers = [];
    private readonly HashSet<string> _nonPersistentBuffers = [];
    private readonly List<KeyValuePair<string, Module>> _children = [];
    private bool _disposed;

    /// <summary>True in training mode (dropout active), false in eval mode.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Parameters with dotted names (child.grandchild.weight), depth first in registration order.</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters(bool recurse = true) => Named(m => m._parameters, recurse);

    public IEnumerable<Tensor> Parameters(bool recurse = true) => NamedParameters(recurse).Select(p => p.Parameter);

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool recurse = true) => Named(m => m._buffers, recurse);

    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children.Select(c => (c.Key, c.Value));

    /// <summary>This module ("") and every descendant with its dotted path.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules()
    {
        yield return (string.Empty, this);
        foreach (var (name, child) in _children)
        {
            foreach (var (subName, module) in child.NamedModules())
            {
                yield return (subName.Length == 0 ? name : $"{name}.{subName}", module);
            }
        }
    }

    /// <summary>Hooks run around this module's forward when callers use <see cref="Invoke{T}"/>; null for none.</summary>
    public IForwardHooks? ForwardHooks { get; set; }

    /// <summary>
    /// Runs <paramref name="forward"/> (a call of this module's forward) between its <see cref="ForwardHooks"/>.
    /// Models call a sub-module that may be a sharding unit (a transformer block) this way.
    /// </summary>
    public T Invoke<T>(Func<T> forward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        var hooks = ForwardHooks;
        if (hooks is null)
        {
            return forward();
        }

        hooks.BeforeForward(this);
        var output = forward();
        hooks.AfterForward(this, output);
        return output;
    }

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount() => Parameters().Sum(p => p.NumElements);

    /// <summary>Sets training mode here and in every descendant.</summary>
    public Module Train(bool training = true)
    {
        Training = training;
        foreach (var (_, child) in _children)
        {
            child.Train(training);
        }

        return this;
    }

    public Module Eval() => Train(false);

    /// <summary>Clears every parameter's gradient (sets it to none, as torch's default).</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in Parameters())
        {
            parameter.SetGrad(null);
        }
    }

    /// <summary>
    /// Parameters and persistent buffers by dotted name, as new handles sharing their memory and
    /// detached from autograd. The caller owns the returned tensors (they join the current dispose scope).
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in NamedParameters())
        {
            state[name] = parameter.Detach();
        }

        foreach (var (name, buffer) in NamedPersistentBuffers())
        {
            state[name] = buffer.Detach();
        }

        return state;
    }

    /// <summary>
    /// Copies values into parameters and persistent buffers. With <paramref name="strict"/>, missing and
    /// unexpected keys are errors; shapes must always match. Nothing is copied unless everything matches.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var targets = NamedParameters().Concat(NamedPersistentBuffers()).ToList();
        var problems = new List<string>();
        if (strict)
        {
            var known = targets.Select(t => t.Item1).ToHashSet(StringComparer.Ordinal);
            problems.AddRange(targets.Where(t => !state.ContainsKey(t.Item1)).Select(t => $"missing key '{t.Item1}'"));
            problems.AddRange(state.Keys.Where(k => !known.Contains(k)).Order(StringComparer.Ordinal).Select(k => $"unexpected key '{k}'"));
        }

        foreach (var (name, target) in targets)
        {
            if (state.TryGetValue(name, out var source) && !source.Shape.SequenceEqual(target.Shape))
            {
                problems.Add($"'{name}' has shape [{string.Join(", ", source.Shape)}] in the state dict but [{string.Join(", ", target.Shape)}] in the module");
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidDataException($"cannot load state dict into {GetType().Name}: {string.Join("; ", problems)}");
        }

        using var noGrad = GradMode.Disable();
        foreach (var (name, target) in targets)
        {
            if (state.TryGetValue(name, out var source))
            {
                target.Copy_(source);
            }
        }
    }

    /// <summary>Converts every parameter and buffer to <paramref name="dtype"/> in place (the Tensor objects stay the same).</summary>
    public Module To(ScalarType dtype) => Convert(t => t.To(dtype));

    /// <summary>Moves every parameter and buffer to <paramref name="device"/> in place.</summary>
    public Module To(Device device) => Convert(t => t.To(device));

    /// <summary>Where the module's parameters live (the first one's device; the CPU for a module without parameters).</summary>
    public Device Device => Parameters().FirstOrDefault()?.Device ?? Device.Cpu;

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (_disposed || !disposing)
        {
            return;
        }

        _disposed = true;
        foreach (var (_, parameter) in _parameters)
        {
            parameter.Dispose();
        }

        foreach (var (_, buffer) in _buffers)
        {
            buffer.Dispose();
        }

        foreach (var (_, child) in _children)
        {
            child.Dispose();
        }
    }

    /// <summary>Takes ownership of <paramref name="value"/> as a trainable parameter and returns it.</summary>
    protected Tensor RegisterParameter(string name, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckName(name);
        value.DetachFromDisposeScope();
        if (!value.IsLeaf)
        {
            throw new ArgumentException($"parameter '{name}' must be a leaf tensor (create it, or Detach() it, outside autograd)", nameof(value));
        }

        value.RequiresGrad = true;
        _parameters.Add(new(name, value));
        return value;
    }

    /// <summary>Takes ownership of a non-trainable tensor; persistent buffers are part of the state dict.</summary>
    protected Tensor RegisterBuffer(string name, Tensor value, bool persistent = true)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckName(name);
        value.DetachFromDisposeScope();
        _buffers.Add(new(name, value));
        if (!persistent)
        {
            _nonPersistentBuffers.Add(name);
        }

        return value;
    }

    /// <summary>Adds a child module and returns it.</summary>
    protected T RegisterModule<T>(string name, T module)
        where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckName(name);
        _children.Add(new(name, module));
        return module;
    }

    private IEnumerable<(string Name, Tensor Buffer)> NamedPersistentBuffers() =>
        NamedModules().SelectMany(m => m.Module._buffers
            .Where(b => !m.Module._nonPersistentBuffers.Contains(b.Key))
            .Select(b => (m.Name.Length == 0 ? b.Key : $"{m.Name}.{b.Key}", b.Value)));

    private IEnumerable<(string Name, Tensor Value)> Named(Func<Module, List<KeyValuePair<string, Tensor>>> select, bool recurse)
    {
        var modules = recurse ? NamedModules() : [(string.Empty, this)];
        foreach (var (prefix, module) in modules)
        {
            foreach (var (name, value) in select(module))
            {
                yield return (prefix.Length == 0 ? name : $"{prefix}.{name}", value);
            }
        }
    }

    private Module Convert(Func<Tensor, Tensor> convert)
    {
        using var noGrad = GradMode.Disable();
        foreach (var tensor in Parameters().Concat(NamedBuffers().Select(b => b.Buffer)))
        {
            using var converted = convert(tensor).DetachFromDisposeScope();
            tensor.SetData(converted);
        }

        return this;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a valid member name: it must be non-empty and contain no '.'", nameof(name));
        }

        if (_parameters.Any(p => p.Key == name) || _buffers.Any(b => b.Key == name) || _children.Any(c => c.Key == name))
        {
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'", nameof(name));
        }
    }
}

/// <summary>A module with a typed forward function.</summary>
public abstract class Module<TInput, TOutput> : Module
{
    public abstract TOutput Forward(TInput input);

    /// <summary>Same as <see cref="Forward"/>.</summary>
    public TOutput Call(TInput input) => Forward(input);
}

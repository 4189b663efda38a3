namespace Sora.Torch;

/// <summary>
/// Owns every tensor created on this thread while it is the innermost open scope, and disposes
/// them when it is disposed, except those moved out with <see cref="MoveToOuter(Tensor)"/> or
/// <see cref="Tensor.DetachFromDisposeScope"/>. Scopes nest and must be disposed in reverse order.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic]
    private static DisposeScope? t_current;

    private readonly DisposeScope? _outer;
    private readonly HashSet<Tensor> _tensors = new(ReferenceEqualityComparer.Instance);
    private readonly int _threadId;
    private bool _disposed;

    private DisposeScope(DisposeScope? outer)
    {
        _outer = outer;
        _threadId = Environment.CurrentManagedThreadId;
    }

    /// <summary>The innermost open scope on this thread, or null.</summary>
    public static DisposeScope? Current => t_current;

    /// <summary>How many tensors this scope will dispose.</summary>
    public int Count => _tensors.Count;

    /// <summary>Opens a scope that becomes <see cref="Current"/> until disposed.</summary>
    public static DisposeScope Enter()
    {
        var scope = new DisposeScope(t_current);
        t_current = scope;
        return scope;
    }

    /// <summary>Hands the tensor to the enclosing scope (or to the caller, if there is none) and returns it.</summary>
    public Tensor MoveToOuter(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Scope != this)
        {
            throw new InvalidOperationException(tensor.Scope is null
                ? "the tensor belongs to no dispose scope; there is nothing to move it out of"
                : "the tensor belongs to another dispose scope; move it from that one");
        }

        _tensors.Remove(tensor);
        tensor.Scope = null;
        _outer?.Attach(tensor);
        return tensor;
    }

    /// <summary>Moves several tensors to the enclosing scope.</summary>
    public void MoveToOuter(params ReadOnlySpan<Tensor> tensors)
    {
        foreach (var tensor in tensors)
        {
            MoveToOuter(tensor);
        }
    }

    /// <summary>Takes ownership of a tensor created elsewhere.</summary>
    public Tensor Include(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        tensor.Scope?.Forget(tensor);
        Attach(tensor);
        return tensor;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (t_current != this)
        {
            throw new InvalidOperationException(
                _threadId != Environment.CurrentManagedThreadId
                    ? "a DisposeScope must be disposed on the thread that opened it"
                    : "DisposeScopes must be disposed in the reverse order they were opened (an inner scope is still open)");
        }

        _disposed = true;
        t_current = _outer;
        foreach (var tensor in _tensors)
        {
            tensor.Scope = null;
            tensor.Dispose();
        }

        _tensors.Clear();
    }

    internal void Attach(Tensor tensor)
    {
        _tensors.Add(tensor);
        tensor.Scope = this;
    }

    internal void Forget(Tensor tensor)
    {
        _tensors.Remove(tensor);
        tensor.Scope = null;
    }
}

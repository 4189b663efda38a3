namespace Sora.Torch.NN;

/// <summary>
/// Code run around a module's forward (PyTorch's forward pre- and post-hooks), for modules whose callers
/// go through <see cref="Module.Invoke{T}"/>: what FSDP gathers a unit's parameters before, and frees
/// them after, with.
/// </summary>
public interface IForwardHooks
{
    /// <summary>Runs just before <paramref name="module"/>'s forward.</summary>
    void BeforeForward(Module module);

    /// <summary>Runs just after it, with its output.</summary>
    void AfterForward(Module module, object? output);
}

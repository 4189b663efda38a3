using Sora.Torch.Autograd;
using Sora.Torch.Native;

namespace Sora.Torch;

public sealed partial class Tensor
{
    /// <summary>Whether autograd records operations on this tensor.</summary>
    public bool RequiresGrad
    {
        get => NativeError.Check(NativeMethods.sora_requires_grad(Handle)) != 0;
        set => NativeError.Check(NativeMethods.sora_set_requires_grad(Handle, value ? 1 : 0));
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor.</summary>
    public Tensor RequiresGrad_(bool requiresGrad = true)
    {
        RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>True for tensors created by the user rather than by a recorded op.</summary>
    public bool IsLeaf => NativeError.Check(NativeMethods.sora_is_leaf(Handle)) != 0;

    /// <summary>The accumulated gradient as a new handle (null if none); it shares memory with the stored gradient.</summary>
    public Tensor? Grad()
    {
        var grad = NativeMethods.sora_grad(Handle);
        if (grad == IntPtr.Zero)
        {
            NativeError.ThrowIfSet();
            return null;
        }

        return new Tensor(grad);
    }

    /// <summary>Replaces the stored gradient (null clears it).</summary>
    public void SetGrad(Tensor? grad) =>
        NativeError.Check(NativeMethods.sora_set_grad(Handle, grad?.Handle ?? TensorHandle.Null));

    /// <summary>Backpropagates from this tensor; <paramref name="gradient"/> is required unless it has one element.</summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false) =>
        NativeError.Check(NativeMethods.sora_backward(Handle, gradient?.Handle ?? TensorHandle.Null, retainGraph ? 1 : 0, createGraph ? 1 : 0));

    /// <summary>A tensor sharing storage but cut from the graph.</summary>
    public Tensor Detach() => new(NativeMethods.sora_detach(Handle));

    public Tensor Detach_()
    {
        NativeError.Check(NativeMethods.sora_detach_(Handle));
        return this;
    }

    /// <summary>
    /// Calls <paramref name="hook"/> with each gradient computed for this tensor during backward.
    /// It may return a replacement gradient, or null to keep it. The gradient passed in is disposed after the call.
    /// </summary>
    public GradientHook RegisterHook(Func<Tensor, Tensor?> hook) => GradientHook.ForGradient(this, hook);

    /// <summary>
    /// Calls <paramref name="hook"/> after backward has accumulated this leaf's gradient into <see cref="Grad"/>
    /// (what DDP uses to reduce a bucket as soon as its gradients are ready).
    /// </summary>
    public GradientHook RegisterPostAccumulateGradHook(Action<Tensor> hook) => GradientHook.PostAccumulate(this, hook);
}

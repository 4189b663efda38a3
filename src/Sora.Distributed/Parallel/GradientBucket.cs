using Sora.Torch;
using Sora.Torch.Distributed;

namespace Sora.Distributed.Parallel;

/// <summary>
/// Parameters whose gradients are all-reduced together: one flat buffer, a view of it per parameter,
/// and how many of them are still waiting for their gradient this step.
/// </summary>
internal sealed class GradientBucket : IDisposable
{
    private readonly Tensor _buffer;
    private readonly Tensor[] _views;
    private readonly bool[] _ready;
    private int _pending;

    public GradientBucket(int index, IReadOnlyList<(int Slot, Tensor Parameter)> members)
    {
        Index = index;
        Members = members;
        var total = members.Sum(m => m.Parameter.NumElements);
        _buffer = Tensor.Zeros([total], members[0].Parameter.DType, members[0].Parameter.Device).DetachFromDisposeScope();
        _views = new Tensor[members.Count];
        long offset = 0;
        for (var i = 0; i < members.Count; i++)
        {
            var count = members[i].Parameter.NumElements;
            _views[i] = _buffer.Narrow(0, offset, count).DetachFromDisposeScope();
            offset += count;
        }

        _ready = new bool[members.Count];
        Reset();
    }

    public int Index { get; }

    /// <summary>(position in the model's parameter list, parameter), in bucket order.</summary>
    public IReadOnlyList<(int Slot, Tensor Parameter)> Members { get; }

    public long Bytes => _buffer.ByteCount;

    public bool IsReady => _pending == 0;

    public bool Launched { get; private set; }

    public CollectiveWork? Work { get; private set; }

    public void Reset()
    {
        Array.Fill(_ready, false);
        _pending = _ready.Length;
        Launched = false;
        Work?.Dispose();
        Work = null;
    }

    /// <summary>Copies member <paramref name="member"/>'s gradient into the buffer and marks it ready.</summary>
    public void MarkReady(int member)
    {
        if (_ready[member])
        {
            return;
        }

        CopyIn(member);
        _ready[member] = true;
        _pending--;
    }

    /// <summary>Starts the all-reduce; members that got no gradient this step contribute zeros.</summary>
    public void Launch(ProcessGroup group)
    {
        for (var i = 0; i < _ready.Length; i++)
        {
            if (!_ready[i])
            {
                CopyIn(i);
                _ready[i] = true;
            }
        }

        _pending = 0;
        Launched = true;
        Work = group.AllReduce(_buffer, ReduceOp.Avg);
    }

    /// <summary>Waits for the reduction and writes the averaged gradients back.</summary>
    public void Complete()
    {
        Work!.Wait();
        using var scope = Tensor.NewDisposeScope();
        for (var i = 0; i < Members.Count; i++)
        {
            var parameter = Members[i].Parameter;
            var reduced = _views[i].View(parameter.Shape);
            var grad = parameter.Grad();
            if (grad is null)
            {
                parameter.SetGrad(reduced.Clone());
            }
            else
            {
                grad.Copy_(reduced);
            }
        }
    }

    public void Dispose()
    {
        Work?.Dispose();
        foreach (var view in _views)
        {
            view.Dispose();
        }

        _buffer.Dispose();
    }

    private void CopyIn(int member)
    {
        using var scope = Tensor.NewDisposeScope();
        var grad = Members[member].Parameter.Grad();
        if (grad is null)
        {
            _views[member].Fill_(0);
        }
        else
        {
            _views[member].Copy_(grad.View(-1));
        }
    }
}

using System.Collections;

namespace Sora.Torch.NN;

/// <summary>An indexed list of child modules, named "0", "1", ... (for example a transformer's blocks).</summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T>
    where T : Module
{
    private readonly List<T> _items = [];

    public ModuleList(IEnumerable<T>? items = null)
    {
        foreach (var item in items ?? [])
        {
            Add(item);
        }
    }

    public int Count => _items.Count;

    public T this[int index] => _items[index];

    public void Add(T module) => _items.Add(RegisterModule(_items.Count.ToString(), module));

    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

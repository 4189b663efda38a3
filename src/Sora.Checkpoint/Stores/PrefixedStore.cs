using System.Runtime.CompilerServices;
using Sora.Data.Storage;

namespace Sora.Checkpoint.Stores;

/// <summary>
/// A store inside another one: every name is taken relative to <see cref="Prefix"/> of the inner store, so a job whose
/// store is <c>az://container/jobs/tiny</c> keeps all its objects under <c>jobs/tiny/</c> and sees them as if that were
/// the root. Listing returns names relative to the prefix too.
/// </summary>
public sealed class PrefixedStore : ICheckpointStore
{
    private readonly ICheckpointStore _inner;

    /// <param name="inner">The whole container or directory.</param>
    /// <param name="prefix">A valid object-name prefix without a trailing '/', e.g. <c>jobs/tiny</c>.</param>
    public PrefixedStore(ICheckpointStore inner, string prefix)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        prefix = prefix.TrimEnd('/');
        ObjectName.Validate(prefix, nameof(prefix));
        Prefix = prefix;
    }

    /// <summary>The prefix inside the inner store, without a trailing '/'.</summary>
    public string Prefix { get; }

    public string Location => $"{_inner.Location}/{Prefix}";

    public async Task<StoredObject> PutAsync(string name, Stream content, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        try
        {
            return Relative(await _inner.PutAsync(Full(name), content, condition, cancellationToken).ConfigureAwait(false));
        }
        catch (PreconditionFailedException e) when (e.ObjectName is not null)
        {
            throw new PreconditionFailedException(e.Message, name, e.HttpStatus, e.ErrorCode, e);
        }
    }

    public async Task<StoredObjectStream> OpenReadAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var stream = await _inner.OpenReadAsync(Full(name), cancellationToken).ConfigureAwait(false);
            return new StoredObjectStream(stream, Relative(stream.Properties));
        }
        catch (StoredObjectNotFoundException e) when (e.ObjectName is not null)
        {
            throw new StoredObjectNotFoundException(e.Message, name, e.HttpStatus, e.ErrorCode, e);
        }
    }

    public async Task<StoredObject?> GetPropertiesAsync(string name, CancellationToken cancellationToken = default) =>
        await _inner.GetPropertiesAsync(Full(name), cancellationToken).ConfigureAwait(false) is { } found ? Relative(found) : null;

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        await foreach (var found in _inner.ListAsync(Prefix + "/" + prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return Relative(found);
        }
    }

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => _inner.DeleteAsync(Full(name), cancellationToken);

    private string Full(string name)
    {
        // Checked as the caller wrote it, so that an error names the caller's name, not the prefixed one.
        ObjectName.Validate(name);
        return Prefix + "/" + name;
    }

    private StoredObject Relative(StoredObject found) => found with { Name = found.Name[(Prefix.Length + 1)..] };
}

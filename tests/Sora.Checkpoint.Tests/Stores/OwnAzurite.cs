using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

/// <summary>A test class with an Azurite of its own (started before its tests, removed after), for tests that stop and restart it.</summary>
public abstract class OwnAzurite : IAsyncLifetime
{
    private AzuriteProcess? _azurite;

    protected AzuriteProcess Azurite => _azurite ?? throw new InvalidOperationException("Azurite is started in InitializeAsync");

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}

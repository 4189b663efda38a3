using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

/// <summary>
/// One real Azurite (<see cref="AzuriteProcess"/>): shared by the tests of a class as a class fixture, or owned by a test
/// class that derives from it (one that stops and restarts its Azurite). Missing Azurite fails the tests; they are never skipped.
/// </summary>
public class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;

    public AzuriteProcess Azurite => _azurite ?? throw new InvalidOperationException("Azurite has not started");

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}

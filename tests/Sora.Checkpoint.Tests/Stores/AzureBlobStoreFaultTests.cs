using Sora.Checkpoint.Stores;

namespace Sora.Checkpoint.Tests.Stores;

/// <summary>The Azure store when its server dies mid-upload and comes back: its own Azurite, since the test stops it.</summary>
public sealed class AzureBlobStoreFaultTests : AzuriteFixture
{
    private const int BlockSize = 64 << 10;
    [Fact]
    public async Task Azurite_stopped_mid_upload_gives_retries_then_a_clear_error_and_a_restart_lets_the_next_put_succeed()
    {
        var recorder = new RequestRecorder();
        var options = AzureBlobStoreTests.Options(recorder);
        using var store = new AzureBlobStore(Azurite.BlobEndpoint, "faults", Azurite.Key, options);
        var committed = new byte[3 * BlockSize];
        new Random(1).NextBytes(committed);
        await store.PutBytesAsync("ckpt/step-1/shard-0", committed);
        var data = new byte[24 * BlockSize];
        new Random(2).NextBytes(data);
        recorder.Clear();

        // The source stops the server once a third of the object has been read, so blocks are in flight or queued.
        var put = () => store.PutAsync("ckpt/step-2/shard-0", new StoppingStream(data, 8 * BlockSize, Azurite.Stop));

        var failure = (await put.Should().ThrowAsync<CheckpointStoreException>()).Which;
        failure.Message.Should().Contain("ckpt/step-2/shard-0").And.Contain($"after {options.Retry.MaxRetries + 1} attempt(s) with no response");
        failure.ObjectName.Should().Be("ckpt/step-2/shard-0");
        failure.HttpStatus.Should().BeNull("no response came");
        recorder.Attempts.GroupBy(a => a.Uri).Max(g => g.Count()).Should().Be(options.Retry.MaxRetries + 1, "the failing request was retried MaxRetries times");

        await Azurite.RestartAsync();

        var retried = await store.PutBytesAsync("ckpt/step-2/shard-0", data);
        retried.Size.Should().Be(data.Length);
        (await store.ReadAllBytesAsync("ckpt/step-2/shard-0")).Should().Equal(data);
        (await store.ReadAllBytesAsync("ckpt/step-1/shard-0")).Should().Equal(committed, "what was committed before the stop survives on disk");
    }

    /// <summary>Yields its bytes and runs <c>stop</c> once <c>stopAt</c> bytes have been read.</summary>
    private sealed class StoppingStream(byte[] data, int stopAt, Action stop) : MemoryStream(data, writable: false)
    {
        private bool _stopped;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (!_stopped && Position >= stopAt)
            {
                _stopped = true;
                stop();
            }

            return base.Read(buffer, offset, Math.Min(count, BlockSize));
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override int Read(Span<byte> buffer)
        {
            var array = new byte[Math.Min(buffer.Length, BlockSize)];
            var n = Read(array, 0, array.Length);
            array.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
    }
}

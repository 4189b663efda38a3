using Azure.Core;
using Azure.Core.Pipeline;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Checkpoint.Tests.Stores;
using Sora.Distributed.Checkpointing;
using Sora.Torch;

namespace Sora.Distributed.Tests.Checkpointing;

/// <summary>The trainer's checkpointer against a real Azurite that is stopped during an async save and comes back.</summary>
public sealed class TrainingCheckpointerTests : AzuriteFixture
{
    private const string Container = "training";
    private const string Root = "dit/checkpoints";
    private const int BlockSize = 64 << 10;
    [Fact]
    public async Task Azurite_stopped_during_an_async_save_fails_it_clearly_training_goes_on_and_the_next_save_commits_once_it_is_back()
    {
        var recorder = new RequestRecorder();
        var outage = new StopOnFirstBlockOf($"{Root}/step-000000002/", Azurite.Stop);
        var options = new AzureBlobStoreOptions { BlockSize = BlockSize, Parallelism = 4 };
        // Backoff kept short through the options (10 ms doubling up to 40 ms), never by sleeping in the test.
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(40);
        options.Retry.MaxRetries = 3;
        options.AddPolicy(outage, HttpPipelinePosition.PerRetry);
        options.AddPolicy(recorder, HttpPipelinePosition.PerRetry);
        using var store = AzureBlobStore.FromConnectionString(Azurite.ConnectionString, Container, options);
        var status = new List<string>();
        using var checkpointer = new TrainingCheckpointer(store, Root, every: 1, configHash: "job", status: new SynchronousProgress(status));

        // A stand-in for the trained weights (1 MiB, 16 blocks) that every "step" changes.
        using var weights = Tensor.Arange(0.0, 262144.0, 1.0, ScalarType.Float32);
        checkpointer.Save(Contents(1, weights));
        checkpointer.Flush();
        checkpointer.Committed.Should().Equal(1);

        // Step 2's save: its upload stops Azurite with its first Put Block, in the background.
        weights.Add_(1);
        checkpointer.Save(Contents(2, weights));
        for (var step = 3; step <= 4; step++)
        {
            weights.Add_(1); // training goes on while the upload fails and retries
        }

        checkpointer.Flush();
        outage.Fired.Should().BeTrue("the save's upload reached Azurite before it was stopped");
        var shard = $"{Root}/step-000000002/shard-00000-of-00001.bin";
        checkpointer.Warnings.Should().ContainSingle().Which.Should()
            .StartWith("checkpoint not saved (1 in a row; at 3 training stops): ")
            .And.Contain($"blob '{shard}' in {Azurite.BlobEndpoint}/{Container}")
            .And.Contain($"after {options.Retry.MaxRetries + 1} attempt(s) with no response");
        recorder.Attempts.Where(a => a.Uri.AbsolutePath.Contains(shard, StringComparison.Ordinal))
            .GroupBy(a => a.Uri).Max(g => g.Count()).Should().Be(options.Retry.MaxRetries + 1, "the failing request was retried MaxRetries times with backoff");
        checkpointer.Committed.Should().Equal([1L], "step 2 was never committed");
        status.Should().Contain(s => s.StartsWith("warning: checkpoint not saved (1 in a row", StringComparison.Ordinal));

        await Azurite.RestartAsync();
        var reader = new ShardedCheckpointReader(store, new CheckpointLayout(Root));
        (await reader.ReadLatestAsync())!.Step.Should().Be(1, "latest still names the last committed checkpoint");
        (await reader.ListStepsAsync()).Should().Equal(1);

        weights.Add_(1);
        checkpointer.Save(Contents(5, weights));
        checkpointer.Flush();
        checkpointer.Committed.Should().Equal(1, 5);
        checkpointer.Warnings.Should().HaveCount(1, "the save after the restart succeeded");
        (await reader.ReadLatestAsync())!.Step.Should().Be(5);

        using var resumed = new TrainingCheckpointer(store, Root, every: 1, configHash: "job", resume: "latest");
        using var loaded = resumed.Load([TensorRequest.Full("model/w")])!;
        loaded.Step.Should().Be(5);
        loaded.Tensors["model/w"].ToArray<float>().Should().Equal(weights.ToArray<float>(), "the committed weights load bitwise");
        loaded.Manifest.DataCursor.Should().Be(Cursor(5));
        resumed.Warnings.Should().BeEmpty();
    }

    [Fact]
    public void A_store_that_stays_down_ends_training_with_its_error_at_the_third_failed_save_or_at_once_for_a_stages_last_step()
    {
        var options = new AzureBlobStoreOptions { BlockSize = BlockSize };
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(20);
        options.Retry.MaxRetries = 1;
        using var store = AzureBlobStore.FromConnectionString(Azurite.ConnectionString, Container, options);
        using var checkpointer = new TrainingCheckpointer(store, Root, every: 1, configHash: "job");
        using var weights = Tensor.Arange(0.0, 1024.0, 1.0, ScalarType.Float32);
        checkpointer.Save(Contents(1, weights));
        checkpointer.Flush();
        Azurite.Stop();

        for (var step = 2; step <= 3; step++)
        {
            checkpointer.Save(Contents(step, weights));
            checkpointer.Flush();
        }

        checkpointer.Warnings.Should().HaveCount(2, "two failed saves are warnings: training goes on");
        checkpointer.Save(Contents(4, weights));
        var third = () => checkpointer.Flush();
        third.Should().Throw<CheckpointStoreException>().WithMessage($"3 checkpoints in a row could not be saved to {store.Location}: *");

        using var last = new TrainingCheckpointer(store, Root, every: 1, configHash: "job");
        last.Save(Contents(5, weights));
        var required = () => last.Flush(required: true);
        required.Should().Throw<CheckpointStoreException>().WithMessage("the stage's last checkpoint could not be saved to *");
    }

    private static CheckpointContents Contents(long step, Tensor weights) =>
        new(step, 0, 1, "job", [ShardedTensorSpec.Whole("model/w", TensorKind.Model, weights)], DataCursor: Cursor(step));

    private static string Cursor(long step) => $"{{\"epoch\":0,\"batch\":{step}}}";

    /// <summary>Stops the server (once) just before the first Put Block of an object under <c>prefix</c> goes out.</summary>
    private sealed class StopOnFirstBlockOf(string prefix, Action stop) : HttpPipelineSynchronousPolicy
    {
        private int _fired;

        public bool Fired => Volatile.Read(ref _fired) == 1;

        public override void OnSendingRequest(HttpMessage message)
        {
            var uri = message.Request.Uri.ToUri();
            if (uri.AbsolutePath.Contains(prefix, StringComparison.Ordinal) && uri.Query.Contains("comp=block&", StringComparison.Ordinal)
                && Interlocked.Exchange(ref _fired, 1) == 0)
            {
                stop();
            }
        }
    }

    /// <summary>Records reports as they are made (Progress&lt;T&gt; would post them to the thread pool later).</summary>
    private sealed class SynchronousProgress(List<string> into) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (into)
            {
                into.Add(value);
            }
        }
    }
}

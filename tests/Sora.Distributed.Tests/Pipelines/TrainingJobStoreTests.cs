using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Data;
using Sora.Distributed.Checkpointing;
using Sora.Distributed.Configuration;
using Sora.Distributed.Pipelines;
using Sora.Distributed.Store;
using Sora.Distributed.Tests.Training;
using Sora.Distributed.Training;

namespace Sora.Distributed.Tests.Pipelines;

/// <summary>
/// The job's store as the job's truth (issue 23): both stages checkpoint into it, the VAE stage commits its outputs
/// there and a later round takes them from there (on a node whose disk is empty), a DiT checkpoint never goes on
/// against another VAE, and the run's outputs are published there and read back through a local cache.
/// Every interrupted run must end with the bytes of the run that was never interrupted.
/// </summary>
[Collection(nameof(TrainerTests))]
public sealed class TrainingJobStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sora-job-store-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_job_stopped_in_the_vae_stage_goes_on_from_its_vae_checkpoint_and_ends_with_the_weights_of_an_uninterrupted_run()
    {
        var reference = Reference();

        var first = Train("interrupted", resume: null, stopAt: ("vae", 3));
        first.Result.StoppedStage.Should().Be("vae");
        first.Result.StopCheckpointCommitted.Should().BeTrue("a stop in the VAE stage is checkpointed like one in the DiT stage");
        var second = Train("interrupted", resume: "latest");

        second.Steps.Where(s => s.Stage == "vae").Select(s => s.Step).Should().StartWith([4L], "the VAE stage resumes after its last checkpoint, not from scratch");
        File.ReadAllBytes(second.Run.VaeWeights).Should().Equal(File.ReadAllBytes(reference.Run.VaeWeights));
        File.ReadAllBytes(second.Run.DiTWeights).Should().Equal(File.ReadAllBytes(reference.Run.DiTWeights), "an exact resume ends where the uninterrupted run ends");
    }

    [Fact]
    public async Task A_later_round_on_an_empty_disk_takes_the_vae_from_the_store_and_ends_with_the_weights_of_an_uninterrupted_run()
    {
        var reference = Reference();

        var first = Train("interrupted", resume: null, stopAt: ("dit", 3));
        first.Result.StoppedStage.Should().Be("dit");
        var store = Store("interrupted");
        var pointer = (await LatestPointer.ReadAsync(store.Store, new CheckpointLayout(JobStore.VaeCheckpoints)))!;
        pointer.Outputs.Should().NotBeNull().And.ContainKeys(RunDirectory.VaeOutputNames);
        foreach (var (name, output) in pointer.Outputs!)
        {
            var stored = await store.Store.ReadAllBytesAsync(output.Object);
            Convert.ToHexStringLower(SHA256.HashData(stored)).Should().Be(output.Sha256, name);
            stored.Should().Equal(File.ReadAllBytes(first.Run.FileOf(name)), $"the store holds the {name} rank 0 wrote");
        }

        // A new node: nothing on its disk but what the store gives it.
        Directory.Delete(first.Run.Path, recursive: true);
        var second = Train("interrupted", resume: "latest");

        second.Messages.Should().Contain(m => m.StartsWith("the VAE stage ended (step 6", StringComparison.Ordinal)).And.NotContain(m => m.StartsWith("training the VAE", StringComparison.Ordinal));
        second.Steps.Should().NotContain(s => s.Stage == "vae");
        second.Steps.Where(s => s.Stage == "dit").Select(s => s.Step).Should().StartWith([4L]);
        File.ReadAllBytes(second.Run.VaeWeights).Should().Equal(File.ReadAllBytes(reference.Run.VaeWeights), "the VAE fetched from the store is the one trained");
        File.ReadAllBytes(second.Run.DiTWeights).Should().Equal(File.ReadAllBytes(reference.Run.DiTWeights));
        File.ReadAllBytes(second.Run.DiTEmaWeights).Should().Equal(File.ReadAllBytes(reference.Run.DiTEmaWeights));
    }

    [Fact]
    public async Task A_dit_checkpoint_trained_against_another_vae_is_refused_naming_both()
    {
        var first = Train("swapped", resume: null, stopAt: ("dit", 3));
        var store = Store("swapped");
        var layout = new CheckpointLayout(JobStore.VaeCheckpoints);
        var pointer = (await LatestPointer.ReadAsync(store.Store, layout))!;
        var trained = pointer.Outputs![RunDirectory.VaeWeightsName].Sha256;

        // Another VAE takes its place in the store: another file, committed as the stage's output.
        var other = Path.Combine(_dir, "other-vae.safetensors");
        File.WriteAllBytes(other, [.. File.ReadAllBytes(first.Run.VaeWeights), 0]);
        var replaced = await store.PutOutputAsync(other, "vae");
        var outputs = pointer.Outputs.ToDictionary(StringComparer.Ordinal);
        outputs[RunDirectory.VaeWeightsName] = replaced;
        await new CheckpointCommitter(store.Store, layout).CommitOutputsAsync(pointer.Step, outputs);
        Directory.Delete(first.Run.Path, recursive: true);

        var resume = () => Train("swapped", resume: "latest");

        resume.Should().Throw<CheckpointIdentityException>()
            .Which.Message.Should().Contain(trained).And.Contain(replaced.Sha256).And.Contain("step 3").And.Contain(JobStore.DiTCheckpoints);
    }

    [Fact]
    public async Task A_finished_run_is_published_to_its_blob_store_and_read_back_through_a_local_cache()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        var container = "j" + Guid.NewGuid().ToString("N")[..20];
        var client = new BlobContainerClient(new Uri($"{azurite.BlobEndpoint}/{container}"), azurite.Key, new BlobClientOptions(Sora.Data.Storage.AzureBlobLocation.DefaultServiceVersion));
        await client.CreateAsync();
        var sas = client.GenerateSasUri(BlobContainerSasPermissions.All, DateTimeOffset.UtcNow.AddHours(1));
        var location = $"{sas.GetLeftPart(UriPartial.Path)}/jobs/quick{sas.Query}";

        var trained = Train("local", resume: null, store: JobStore.Open(location));

        var cache = Path.Combine(_dir, "cache");
        var messages = new List<string>();
        var fetched = RunLocation.Open(location, progress: new SynchronousProgress<string>(messages.Add), cacheRoot: cache);
        fetched.Path.Should().StartWith(cache);
        foreach (var file in trained.Run.Outputs())
        {
            File.ReadAllBytes(Path.Combine(fetched.Path, trained.Run.RelativeName(file))).Should().Equal(File.ReadAllBytes(file), trained.Run.RelativeName(file));
        }

        messages.Should().NotContain(m => m.Contains("sig=", StringComparison.Ordinal), "a SAS never reaches a message");
        var generator = fetched.LoadGenerator();
        generator.Generate(["a red circle moves right on a black background"], 8, 32, 32, 0).Should().ContainSingle();
        var again = new List<string>();
        RunLocation.Open(location, progress: new SynchronousProgress<string>(again.Add), cacheRoot: cache);
        again.Should().Contain("0 file(s) fetched, the rest were cached");
        var names = new List<string>();
        await foreach (var blob in client.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "jobs/quick/", CancellationToken.None))
        {
            names.Add(blob.Name);
        }

        names.Should().Contain(["jobs/quick/run/dit.safetensors", "jobs/quick/run/summary.json", "jobs/quick/vae/checkpoints/latest", "jobs/quick/dit/checkpoints/latest"])
            .And.Contain(n => n.StartsWith("jobs/quick/run/samples/final/", StringComparison.Ordinal) && n.EndsWith(".mp4", StringComparison.Ordinal));
    }

    private Trained Reference() => Train("reference", resume: null);

    private JobStore Store(string name) => JobStore.Open(Path.Combine(_dir, name, "store"));

    private Trained Train(string name, string? resume, (string Stage, long Step)? stopAt = null, JobStore? store = null)
    {
        var job = JobConfig.Parse($"""
            name: quick
            threads: 2
            output: {Path.Combine(_dir, name, "run")}
            data:
              samples: 48
              held_out: 4
            vae:
              train:
                steps: 6
                eval_every: 3
            model:
              hidden: 32
              depth: 1
              heads: 2
            train:
              steps: 6
              warmup_steps: 2
              batch_size: 8
              eval_every: 3
            sampling:
              steps: 3
              prompts:
                - a red circle moves right on a black background
            """, "quick.yaml");
        var messages = new List<string>();
        var steps = new List<(string Stage, long Step)>();
        var control = new TrainingControl();
        var progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            steps.Add((p.Name, p.Step));
            if (stopAt is { } at && p.Name == at.Stage && p.Step == at.Step - 1)
            {
                control.RequestStop("the test stops here");
            }
        });
        var options = new CheckpointOptions(store ?? Store(name), Every: 2, resume);
        var result = new TrainingJob(job, new SynchronousProgress<string>(messages.Add), progress, checkpoints: options, control: control).Run();
        return new Trained(result, new RunDirectory(result.RunDirectory), messages, steps);
    }

    private sealed record Trained(TrainingJobResult Result, RunDirectory Run, List<string> Messages, List<(string Stage, long Step)> Steps);
}

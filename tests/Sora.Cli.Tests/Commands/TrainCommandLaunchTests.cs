using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Sora.Checkpoint.Formats;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Torch;

using static Sora.Tests.Common.SoraProcess;

namespace Sora.Cli.Tests.Commands;

/// <summary>
/// <c>sora train --nproc-per-node N</c> end to end, <c>sora launch</c>'s standalone path with fail-fast settings: the
/// coordinator and this machine's agent in the launcher's process, real worker processes, a real TCPStore and Gloo on
/// loopback. Multi-process tests: they start the built <c>sora</c> as a child process.
/// </summary>
[Trait("Category", "MultiProcess")]
[Collection(nameof(ConsoleOutput))]
public sealed class TrainCommandLaunchTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"sora-launch-{Guid.NewGuid():N}");

    public TrainCommandLaunchTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("ddp")]
    [InlineData("fsdp")]
    public void Two_ranks_train_the_same_losses_as_one_process_on_the_same_global_batches(string parallel)
    {
        // The clips come from a Parquet dataset that the 2-rank run writes first (rank 0 writes, the others wait for it).
        var dataset = Path.Combine(_directory, "moving-shapes");
        var job = WriteJob(ditSteps: 20, dataset: dataset);
        var two = Sora(TimeSpan.FromMinutes(3), "train", job, "--output", Path.Combine(_directory, "two"), "--nproc-per-node", "2", "--parallel", parallel);
        two.ExitCode.Should().Be(0, two.Output);
        Directory.GetFiles(dataset, "*.parquet").Should().NotBeEmpty();
        Directory.GetDirectories(_directory, "moving-shapes.partial-*").Should().BeEmpty();
        var single = Sora(TimeSpan.FromMinutes(3), "train", job, "--output", Path.Combine(_directory, "one"));
        single.ExitCode.Should().Be(0, single.Output);

        var expected = LossHistory("one");
        var actual = LossHistory("two");
        actual.Should().HaveCount(20);
        // fp32 with gradients averaged over 2 ranks instead of one mean over the batch: equal to rounding,
        // which compounds over 30 optimizer steps (10 VAE + 20 DiT); 1e-4 relative is far below any real divergence.
        for (var step = 0; step < expected.Length; step++)
        {
            actual[step].Should().BeApproximately(expected[step], 1e-4 * Math.Abs(expected[step]), $"DiT step {step + 1}");
        }

        // The held-out loss is measured with the EMA weights (gathered from the shards under FSDP).
        HeldOut("two").Should().BeApproximately(HeldOut("one"), 1e-4 * HeldOut("one"));
        Directory.GetFiles(Path.Combine(_directory, "two", "logs"), "rank-1.log", SearchOption.AllDirectories).Should().ContainSingle("every rank's output is kept (logs/NODE/round-1/rank-R.log)");
        File.Exists(Path.Combine(_directory, "two", "dit-ema.safetensors")).Should().BeTrue("rank 0 writes the run directory");
    }

    [Fact]
    public void A_batch_that_does_not_split_across_the_ranks_is_refused_before_any_rank_starts()
    {
        var job = WriteJob(ditSteps: 5);
        var result = Sora(TimeSpan.FromMinutes(2), "train", job, "--output", Path.Combine(_directory, "three"), "--nproc-per-node", "3");
        result.ExitCode.Should().NotBe(0);
        OneLine(result.Output).Should().Contain("vae.train.batch_size (4) must be a multiple of the world size (3)");
        Directory.Exists(Path.Combine(_directory, "three", "logs")).Should().BeFalse("no rank was started");
    }

    [Fact]
    public void A_rank_killed_mid_training_makes_the_launcher_stop_the_others_and_fail_naming_it()
    {
        var job = WriteJob(ditSteps: 100000);
        var output = new StringBuilder();
        using var launcher = Start(output, "train", job, "--output", Path.Combine(_directory, "killed"), "--nproc-per-node", "2", "--timeout", "30");
        try
        {
            WaitFor(() => Snapshot(output).Contains("dit step", StringComparison.Ordinal), TimeSpan.FromMinutes(2), () => Snapshot(output));
            var workers = ChildrenOf(launcher.Id);
            workers.Should().HaveCount(2);
            var rank1 = workers.Single(pid => File.ReadAllText($"/proc/{pid}/environ").Split('\0').Contains("SORA_RANK=1"));
            using (var victim = Process.GetProcessById(rank1))
            {
                victim.Kill(); // SIGKILL
            }

            launcher.WaitForExit(60_000).Should().BeTrue("the launcher must not hang after a rank died");
            launcher.WaitForExit();
            launcher.ExitCode.Should().NotBe(0);
            OneLine(Snapshot(output)).Should().MatchRegex(@"error:.*rank 1 on node '[^']+' failed: signal 9 \(SIGKILL\)", "the first failure ends the job (no restart), naming the rank and the signal");
            workers.Where(pid => pid != rank1).Should().AllSatisfy(pid => Directory.Exists($"/proc/{pid}").Should().BeFalse("the surviving rank is stopped"));
        }
        finally
        {
            if (!launcher.HasExited)
            {
                launcher.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public void Fsdp_killed_after_a_checkpoint_and_resumed_ends_bitwise_equal_to_the_run_never_killed()
    {
        var job = WriteJob(ditSteps: 30);
        string[] fsdp = ["--nproc-per-node", "2", "--parallel", "fsdp", "--checkpoint-every", "15", "--keep-last", "0"];
        var whole = Sora(TimeSpan.FromMinutes(3), ["train", job, "--output", Path.Combine(_directory, "whole"), .. fsdp]);
        whole.ExitCode.Should().Be(0, whole.Output);

        // The second run is killed (every process, SIGKILL) once step 15 is committed, then resumed.
        var output = new StringBuilder();
        var killed = Path.Combine(_directory, "killed");
        var latest = Path.Combine(killed, "checkpoints", "dit", "checkpoints", "latest");
        using (var launcher = Start(output, ["train", job, "--output", killed, .. fsdp]))
        {
            try
            {
                WaitFor(() => File.Exists(latest) && File.ReadAllText(latest).Contains("\"step\":15", StringComparison.Ordinal), TimeSpan.FromMinutes(2), () => Snapshot(output));
            }
            finally
            {
                foreach (var pid in ChildrenOf(launcher.Id).Append(launcher.Id))
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill(); // SIGKILL, no chance to clean up
                }
            }
        }

        File.Exists(Path.Combine(killed, "dit.safetensors")).Should().BeFalse("the run was killed before the end");
        var resumed = Sora(TimeSpan.FromMinutes(3), ["train", job, "--output", killed, "--resume", "latest", .. fsdp]);
        resumed.ExitCode.Should().Be(0, resumed.Output);

        foreach (var file in new[] { "dit.safetensors", "dit-ema.safetensors" })
        {
            File.ReadAllBytes(Path.Combine(killed, file)).Should().Equal(File.ReadAllBytes(Path.Combine(_directory, "whole", file)), $"{file} is bitwise the same");
        }

        // The step-30 shards hold each rank's parameters, AdamW moments and EMA ranges: bitwise the same too.
        foreach (var shard in new[] { "shard-00000-of-00002.bin", "shard-00001-of-00002.bin" })
        {
            var step30 = Path.Combine("checkpoints", "dit", "checkpoints", "step-000000030", shard);
            File.ReadAllBytes(Path.Combine(killed, step30)).Should().Equal(File.ReadAllBytes(Path.Combine(_directory, "whole", step30)), $"{shard} of step 30");
        }
    }

    [Fact]
    public async Task A_two_rank_fsdp_checkpoint_resumes_on_three_ranks_and_on_one_with_the_saved_full_weights_and_the_same_global_data_cursor()
    {
        // Batches of 6 (VAE) and 12 (DiT) split over 1, 2 and 3 ranks; every rank draws the global batch and takes its share.
        var job = WriteJob(ditSteps: 20, vaeBatchSize: 6, ditBatchSize: 12);
        string[] checkpoints = ["--checkpoint-every", "10", "--keep-last", "0"];
        string[] three = ["--nproc-per-node", "3", "--parallel", "fsdp"];
        var two = Path.Combine(_directory, "two");
        var written = Sora(TimeSpan.FromMinutes(4), ["train", job, "--output", two, "--nproc-per-node", "2", "--parallel", "fsdp", .. checkpoints]);
        written.ExitCode.Should().Be(0, written.Output);
        var saved = new ShardedCheckpointReader(new LocalDirectoryStore(Path.Combine(two, "checkpoints")), new CheckpointLayout("dit/checkpoints"));
        var step20 = await saved.ReadManifestAsync(20);
        step20.WorldSize.Should().Be(2);

        // Right after the load: resumed from step 20 with nothing left to train, the run gathers and writes the
        // full weights it loaded, on 3 ranks and on 1 (one process). The copies start without the 2-rank run's weights.
        var onThree = CopyRun(two, "three-at-20");
        var loaded3 = Sora(TimeSpan.FromMinutes(4), ["train", job, "--output", onThree, "--resume", "latest", .. three, .. checkpoints]);
        loaded3.ExitCode.Should().Be(0, loaded3.Output);
        var onOne = CopyRun(two, "one-at-20");
        var loaded1 = Sora(TimeSpan.FromMinutes(4), ["train", job, "--output", onOne, "--resume", "latest", .. checkpoints]);
        loaded1.ExitCode.Should().Be(0, loaded1.Output);
        using var full = await saved.LoadAsync(20, step20.Tensors.Where(t => t.Kind != TensorKind.Optimizer).Select(t => TensorRequest.Full(t.Name)).ToList());
        using (Tensor.NewDisposeScope())
        {
            foreach (var run in new[] { onThree, onOne })
            {
                foreach (var (file, kind) in new[] { ("dit.safetensors", TensorKind.Model), ("dit-ema.safetensors", TensorKind.Ema) })
                {
                    File.ReadAllBytes(Path.Combine(run, file)).Should().Equal(File.ReadAllBytes(Path.Combine(two, file)), $"{run}: {file} is bitwise the 2-rank run's");
                    var (weights, _) = SafeTensorsFile.Read(Path.Combine(run, file));
                    var checkpointed = full.Tensors.Where(t => full.Manifest.Find(t.Key)!.Kind == kind).ToList();
                    checkpointed.Should().NotBeEmpty();
                    foreach (var (name, tensor) in checkpointed)
                    {
                        BytesOf(weights[name[(name.IndexOf('/') + 1)..]]).Should().Equal(BytesOf(tensor), $"{run}: {file} holds checkpoint tensor {name} bit for bit");
                    }
                }
            }
        }

        // Going on from step 10 on 3 ranks: the same global batches as the 2-rank run's steps 11-20 (losses equal to
        // rounding) and, at step 20, the same global data cursor.
        var continued = CopyRun(two, "three-from-10");
        Directory.Delete(Path.Combine(continued, "checkpoints", "dit", "checkpoints", "step-000000020"), recursive: true);
        var resumed = Sora(TimeSpan.FromMinutes(4), ["train", job, "--output", continued, "--resume", "10", .. three, .. checkpoints]);
        resumed.ExitCode.Should().Be(0, resumed.Output);
        var expected = LossHistory("two")[10..];
        var actual = LossHistory("three-from-10");
        actual.Should().HaveCount(10, "steps 11-20 were trained after the resume");
        for (var i = 0; i < expected.Length; i++)
        {
            actual[i].Should().BeApproximately(expected[i], 1e-4 * Math.Abs(expected[i]), $"DiT step {i + 11}");
        }

        var after = await new ShardedCheckpointReader(new LocalDirectoryStore(Path.Combine(continued, "checkpoints")), new CheckpointLayout("dit/checkpoints")).ReadManifestAsync(20);
        after.WorldSize.Should().Be(3);
        after.DataCursor.Should().NotBeNull().And.Be(step20.DataCursor);
        after.DataCursor.Should().NotBe((await saved.ReadManifestAsync(10)).DataCursor, "the cursor moved on over steps 11-20");
    }

    /// <summary>A copy of a run's checkpoints, data and VAE, without its final DiT weights.</summary>
    private string CopyRun(string source, string name)
    {
        var target = Path.Combine(_directory, name);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) is not ("dit.safetensors" or "dit-ema.safetensors")))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }

        return target;
    }

    private static byte[] BytesOf(Tensor tensor)
    {
        var bytes = new byte[tensor.ByteCount];
        tensor.CopyBytesTo(bytes);
        return bytes;
    }

    private double[] LossHistory(string run)
    {
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_directory, run, "summary.json")));
        return summary.RootElement.GetProperty("DiTLossHistory").EnumerateArray().Select(e => e.GetDouble()).ToArray();
    }

    private double HeldOut(string run)
    {
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_directory, run, "summary.json")));
        return summary.RootElement.GetProperty("DiTHeldOutLoss").EnumerateArray().Last().GetDouble();
    }

    private string WriteJob(int ditSteps, int vaeBatchSize = 4, int ditBatchSize = 8, string? dataset = null) =>
        WriteTinyJob(_directory, ditSteps, vaeBatchSize, ditBatchSize, dataset);

    private static (int ExitCode, string Output) Sora(TimeSpan limit, params string[] args)
    {
        var output = new StringBuilder();
        using var process = Start(output, args);
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"sora {string.Join(' ', args)} did not finish in {limit}:\n{Snapshot(output)}");
        }

        process.WaitForExit();
        return (process.ExitCode, Snapshot(output));
    }

    /// <summary>The console wraps long lines when redirected: compare text with the line breaks removed.</summary>
    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.TrimEntries));

    private static List<int> ChildrenOf(int parent) =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => int.TryParse(name, out _))
            .Select(int.Parse!)
            .Where(pid =>
            {
                try
                {
                    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces, so split after ')'.
                    var stat = File.ReadAllText($"/proc/{pid}/stat");
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    return int.Parse(fields[1]) == parent;
                }
                catch (IOException)
                {
                    return false;
                }
            })
            .ToList();
}
